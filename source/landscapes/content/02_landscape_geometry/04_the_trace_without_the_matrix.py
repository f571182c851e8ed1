# %% [markdown] id="hutchinson-intro"
# ## 2. The trace without the matrix: Hutchinson's estimator
#
# The **trace** $\operatorname{tr} H = \sum_i H_{ii} = \sum_k \lambda_k$ is the sum of the
# curvatures along all $d$ eigen-directions. Hutchinson (1989, *A stochastic estimator of the
# trace of the influence matrix for Laplacian smoothing splines*) noticed that for a random vector
# $v$ with $\mathbb{E}[v v^\top] = I$,
#
# $$\mathbb{E}\big[v^\top H v\big] = \mathbb{E}\big[\operatorname{tr}(H\,v v^\top)\big]
# = \operatorname{tr}\big(H\,\mathbb{E}[v v^\top]\big) = \operatorname{tr} H .$$
#
# So the average of $v^\top H v$ over $m$ random **probes** is an unbiased estimate of the trace,
# at one `hvp` per probe.
#
# **Which probes?** *Rademacher* probes have independent entries $\pm1$ with probability ½ each.
# Then
#
# $$v^\top H v = \sum_i H_{ii}\,v_i^2 + \sum_{i\ne j} H_{ij}\,v_i v_j
# = \operatorname{tr} H + \sum_{i\ne j} H_{ij}\,v_i v_j ,$$
#
# because $v_i^2 = 1$: the diagonal adds no noise. One probe has variance
# $2\sum_{i\ne j} H_{ij}^2$ (Gaussian probes add $2\sum_i H_{ii}^2$); Hutchinson showed that
# $\pm1$ entries give the smallest variance among probes with independent, zero-mean,
# unit-variance entries. The mean of $m$ probes has standard deviation $\text{std}/\sqrt m$:
# halving the error costs four times as many probes.
#
# For the *given* probes the estimate is a fixed number — `hutchinson_trace` has no randomness
# inside. With all $2^d$ sign vectors as probes the estimate *is* the trace (the visible test
# uses this for $d = 3$).
#
# `rademacher_probes` draws its signs **only** from the generator it is given (the global random
# state is untouched).

# %% id="rademacher-probes-solution" role="answer" solution="rademacher_probes" section="2"
import numbers

import torch

# %% role="visible" item="rademacher_probes"
# Visible tests for `rademacher_probes`.
_P = rademacher_probes(5, 1000, torch.Generator().manual_seed(0))
assert isinstance(_P, torch.Tensor), f"return a tensor, got {type(_P).__name__}"
assert _P.shape == (5, 1000), f"one row per probe, one column per parameter: expected (5, 1000), got {tuple(_P.shape)}"
assert _P.dtype == torch.get_default_dtype(), f"expected the default dtype {torch.get_default_dtype()}, got {_P.dtype}"
assert ((_P == 1.0) | (_P == -1.0)).all(), f"every entry must be exactly +1.0 or -1.0, got values {_P.unique().tolist()}"
_plus = float((_P == 1.0).float().mean())
assert 0.45 < _plus < 0.55, f"+1 and -1 should be equally likely; got a fraction {_plus:.3f} of +1"
assert torch.equal(rademacher_probes(5, 1000, torch.Generator().manual_seed(0)), _P), (
    "the same generator state must give the same probes (draw from `generator` only)")
assert not torch.equal(rademacher_probes(5, 1000, torch.Generator().manual_seed(1)), _P), (
    "another seed should give other probes")
_state = torch.get_rng_state()
rademacher_probes(3, 10, torch.Generator().manual_seed(0))
assert torch.equal(torch.get_rng_state(), _state), "do not draw from the global random generator"
try:
    rademacher_probes(0, 10, torch.Generator())
except ValueError:
    pass
else:
    raise AssertionError("num_probes = 0 should raise ValueError")
print("rademacher_probes: visible tests passed")

# %% role="hidden" item="rademacher_probes"

# %% id="hutchinson-trace-solution" role="answer" solution="hutchinson_trace" section="2"
import math

import torch

# %% role="visible" item="hutchinson_trace"
# Visible tests for `hutchinson_trace` on a quadratic with Hessian A (trace 2 + 3 + 4 = 9).
_A = torch.tensor([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]], dtype=torch.float64)


def _quadratic(theta):
    return 0.5 * theta @ (_A @ theta)


_theta = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64)
_all_signs = torch.tensor(list(itertools.product([-1.0, 1.0], repeat=3)), dtype=torch.float64)
_estimate = hutchinson_trace(_quadratic, _theta, _all_signs)
assert isinstance(_estimate, float), f"return a Python float, got {type(_estimate).__name__}"
assert abs(_estimate - 9.0) < 1e-9, (
    f"with all 8 sign vectors the estimate is exact: tr A = 9; got {_estimate}")
_one = torch.tensor([[1.0, 1.0, -1.0]], dtype=torch.float64)
assert abs(hutchinson_trace(_quadratic, _theta, _one) - 13.0) < 1e-9, (
    "one probe v = (1, 1, -1): v^T A v = 13 (the estimate is exact FOR THE GIVEN PROBES)")
_two = torch.tensor([[1.0, 1.0, -1.0], [1.0, -1.0, 1.0]], dtype=torch.float64)
assert abs(hutchinson_trace(_quadratic, _theta, _two) - 11.0) < 1e-9, (
    "two probes with v^T A v = 13 and 9: the estimate is their mean, 11")
_diagonal = torch.diag(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
_random_signs = rademacher_probes(4, 3, torch.Generator().manual_seed(0)).double()
assert abs(hutchinson_trace(lambda th: 0.5 * th @ (_diagonal @ th), _theta, _random_signs) - 6.0) < 1e-9, (
    "for a diagonal Hessian every sign vector gives the exact trace (v_i**2 = 1)")
try:
    hutchinson_trace(_quadratic, _theta, torch.ones(2, 4, dtype=torch.float64))
except ValueError:
    pass
else:
    raise AssertionError("probes with 4 columns for 3 parameters should raise ValueError")
print("hutchinson_trace: visible tests passed")

# %% role="hidden" item="hutchinson_trace"

# %% [markdown] id="demo-hutchinson-intro"
# ### Demonstration: Hutchinson's estimate converging to the exact trace
#
# On the tiny network (exact trace known) we draw 300 Rademacher probes and plot the running mean
# over the first $k$ probes, with a band of $\pm1$ standard deviation of that mean. The predicted
# standard deviation of one probe, $\sqrt{2\sum_{i\ne j}H_{ij}^2}$, is printed next to the
# measured one.

# %% id="demo-hutchinson" role="demo"
NUM_PROBES = 300

with needs("hvp", "rademacher_probes", "hutchinson_trace"):
    exact_trace = float(H_tiny.trace())
    probes = rademacher_probes(NUM_PROBES, theta_tiny.numel(), torch.Generator().manual_seed(0))
    # The estimate of each probe on its own, then the running mean over the first k probes.
    single = torch.tensor([hutchinson_trace(tiny_loss, theta_tiny, probes[i : i + 1])
                           for i in range(NUM_PROBES)], dtype=torch.float64)
    k = torch.arange(1, NUM_PROBES + 1, dtype=torch.float64)
    running_mean = single.cumsum(0) / k
    running_var = (torch.cumsum(single**2, 0) - k * running_mean**2) / (k - 1).clamp(min=1)
    band = (running_var.clamp(min=0) / k).sqrt()  # std of the mean of k probes
    all_at_once = hutchinson_trace(tiny_loss, theta_tiny, probes)

    off_diagonal = float((H_tiny**2).sum() - (H_tiny.diagonal() ** 2).sum())
    print(f"exact trace (full Hessian):          {exact_trace:8.3f}")
    for m in (10, 30, 100, 300):
        print(f"Hutchinson, {m:3d} probes:            {float(running_mean[m - 1]):8.3f} "
              f"+- {float(band[m - 1]):.3f}")
    print(f"hutchinson_trace of all {NUM_PROBES} at once:   {all_at_once:8.3f} (the same mean)")
    print(f"std of one probe: measured {float(single.std()):.2f}, "
          f"predicted sqrt(2 sum_(i!=j) H_ij^2) = {math.sqrt(2 * off_diagonal):.2f}")
    print(f"{NUM_PROBES} probes: off by {abs(all_at_once - exact_trace) / exact_trace:.1%} of the exact "
          f"trace, band +- {float(band[-1]) / exact_trace:.1%}; one probe's std is "
          f"{float(single.std()) / exact_trace:.0%} of the trace")

    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(k[1:], running_mean[1:], label="running mean of $v^T H v$")
    ax.fill_between(k[1:].numpy(), (running_mean - band)[1:].numpy(), (running_mean + band)[1:].numpy(),
                    alpha=0.3, label="$\\pm 1$ std of the mean")
    ax.axhline(exact_trace, color="black", linestyle="--", label=f"exact trace {exact_trace:.2f}")
    ax.set_xscale("log")
    ax.set_xlabel("number of Rademacher probes $k$")
    ax.set_ylabel("estimate of tr $H$")
    ax.set_title("Hutchinson's estimator on the tiny network (d = 116)")
    ax.legend(fontsize="small")
    plt.show()

# %% [markdown] id="demo-hutchinson-after"
# **What to look for.** A single probe can be far off: here its standard deviation is about 18,
# half the trace of about 36.9, close to the prediction $\sqrt{2\sum_{i\ne j}H_{ij}^2}$ (about
# 20). The running mean settles onto the exact trace and the band narrows like $1/\sqrt k$. With
# all 300 probes the estimate is about 36.1, off by about 2% of the trace, with a band of about
# $\pm 1.0$. For a network with millions of parameters only the price of one `hvp` changes: a few
# hundred probes give the trace to a few percent — report that error bar.
