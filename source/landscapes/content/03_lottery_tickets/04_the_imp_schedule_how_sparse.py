# %% [markdown] id="schedule-intro"
# ## 2. The IMP schedule: how sparse after $r$ rounds, and how many rounds to get there
#
# Each round keeps a fraction $1-p$ of the weights that were left, so after $r$ rounds the
# sparsity is
#
# $$s_r \;=\; 1 - (1-p)^r \qquad(\text{not } r\cdot p).$$
#
# With $p = 20\%$: 20%, 36%, 48.8%, 59.0%, …, never 100%. The number of rounds for a target
# sparsity $s^\ast$ is the smallest $r$ with $s_r \ge s^\ast$, i.e.
# $r = \lceil \log(1-s^\ast) / \log(1-p) \rceil$ — checked against $s_r$ itself, because
# floating-point logarithms can land a hair on the wrong side of an integer (and $1 - 0.8$ is
# `0.19999999999999996`, so we accept $s_r \ge s^\ast - 10^{-12}$).
#
# **Why it matters: cost.** Every round is a full training run. 90% sparsity at 20% a round takes
# 11 trainings, 99% takes 21. One-shot pruning is cheaper, but Frankle & Carbin found that
# iterative pruning finds winning tickets at higher sparsity. (Real masks prune whole weights, so
# the achieved sparsity differs slightly from the formula.)

# %% id="imp-sparsity-solution" role="answer" solution="imp_sparsity" section="2"

# %% role="visible" item="imp_sparsity"
# Visible tests for `imp_sparsity`.
assert abs(imp_sparsity(0.2, 1) - 0.2) < 1e-12, f"one round of 20% is 20%, got {imp_sparsity(0.2, 1)}"
assert abs(imp_sparsity(0.2, 2) - 0.36) < 1e-12, (
    f"two rounds of 20%: 1 - 0.8**2 = 0.36 (not 0.4), got {imp_sparsity(0.2, 2)}")
assert abs(imp_sparsity(0.5, 3) - 0.875) < 1e-12, f"1 - 0.5**3 = 0.875, got {imp_sparsity(0.5, 3)}"
assert isinstance(imp_sparsity(0.2, 3), float), "imp_sparsity should return a Python float"
assert imp_sparsity(0.2, 0) == 0.0, "zero rounds prune nothing"
try:
    imp_sparsity(1.5, 2)
except ValueError:
    pass
else:
    raise AssertionError("fraction 1.5 should raise ValueError")
print("imp_sparsity: visible tests passed")

# %% role="hidden" item="imp_sparsity"

# %% id="rounds-to-reach-solution" role="answer" solution="rounds_to_reach" section="2"
import math

#: A schedule "reaches" a target when its sparsity is at least target - SPARSITY_TOL, so that
#: float rounding (1 - 0.8 is 0.19999999999999996) does not cost an extra round.
SPARSITY_TOL = 1e-12

# %% role="visible" item="rounds_to_reach"
# Visible tests for `rounds_to_reach`.
assert rounds_to_reach(0.2, 0.9) == 11, (
    f"20% a round: 0.8**10 = 0.107 > 0.1 but 0.8**11 = 0.086, so 11 rounds; got {rounds_to_reach(0.2, 0.9)}")
assert isinstance(rounds_to_reach(0.2, 0.9), int), "rounds_to_reach should return an int"
assert rounds_to_reach(0.5, 0.75) == 2, (
    f"1 - 0.5**2 = 0.75 exactly: a target hit exactly is reached; got {rounds_to_reach(0.5, 0.75)}")
assert rounds_to_reach(0.2, 0.2) == 1, (
    "1 - 0.8 is 0.19999999999999996 in float64, within 1e-12 of the target 0.2: one round")
assert rounds_to_reach(0.2, 0.0) == 0, "target 0 needs no rounds"
for bad_args in [(0.0, 0.5), (1.0, 0.5), (0.2, 1.0)]:
    try:
        rounds_to_reach(*bad_args)
    except ValueError:
        pass
    else:
        raise AssertionError(f"rounds_to_reach{bad_args} should raise ValueError")
print("rounds_to_reach: visible tests passed")

# %% role="hidden" item="rounds_to_reach"

# %% [markdown] id="demo-schedule-intro"
# **Demonstration: the schedule on a real network.** The 2-32-32-4 MLP of the next sections has
# $2\cdot32 + 32\cdot32 + 32\cdot4 = 1216$ prunable weights. Below: `imp_sparsity(0.2, r)`, the
# sparsity reached when every round prunes `prune_count(kept, 0.2)` whole weights, and the number
# of rounds for common targets.

# %% id="demo-schedule" role="demo"
with needs("prune_count", "imp_sparsity", "rounds_to_reach"):
    num_weights = 2 * 32 + 32 * 32 + 32 * 4
    kept = num_weights
    rows = []
    for r in range(0, 14):
        rows.append((r, imp_sparsity(0.2, r), kept, 1 - kept / num_weights))
        kept -= prune_count(kept, 0.2)   # one round prunes whole weights
    print(f"{'round':>5} {'1-(1-p)^r':>10} {'kept':>6} {'actual':>8}")
    for r, formula, k, actual in rows:
        print(f"{r:>5} {formula:>10.4f} {k:>6} {actual:>8.4f}")
    gap = max(abs(actual - formula) * num_weights for _, formula, _, actual in rows)
    print(f"largest gap between the formula and whole weights: {gap:.2f} weights; "
          f"rounds per factor of ten in density: log 0.1 / log 0.8 = {math.log(0.1) / math.log(0.8):.1f}")
    print()
    for target in (0.5, 0.8, 0.9, 0.95, 0.99):
        r = rounds_to_reach(0.2, target)
        print(f"{target:.0%} sparsity at 20% a round: {r:>2} rounds (= {r} training runs), "
              f"reaching {imp_sparsity(0.2, r):.4f}")

# %% [markdown] id="demo-schedule-after"
# The whole-weight schedule follows the formula to within about one weight. Each extra "nine" of
# sparsity costs about as many rounds as the previous one ($\log 0.1 / \log 0.8 \approx 10.3$ rounds
# per factor of ten in density).
