# %% [markdown] id="rescale-intro"
# ## 5. Sharpness is not a property of the function: rescaling (practice problem 4)
#
# > *Practice problem 4. Explain why Dinh et al.'s (2017) scale-invariance argument means that
# > "sharp vs flat minima" claims must be treated carefully for ReLU networks.*
#
# The ReLU is **positively homogeneous**: $\operatorname{relu}(cz) = c\,\operatorname{relu}(z)$ for
# every $c > 0$. Multiply the incoming weights of hidden unit $i$ (row $i$ of the first weight
# matrix) *and its bias* by $c_i > 0$, and divide its outgoing weights (column $i$ of the next
# weight matrix) by $c_i$:
#
# $$W_2\,\operatorname{relu}(W_1 x + b_1) \;=\; (W_2 C^{-1})\,\operatorname{relu}\big(C W_1 x + C b_1\big),
# \qquad C = \operatorname{diag}(c_1, \dots, c_h).$$
#
# The network computes **exactly the same function** with different parameters
# $\theta' = T\theta$. But since $L'(\theta') = L(T^{-1}\theta')$, its Hessian is
# $H' = T^{-1} H T^{-1}$: the block of the incoming weights is divided by $c^2$, that of the
# outgoing weights multiplied by $c^2$. With $c$ large or small the trace and the top eigenvalue
# become as large as we like. Dinh et al. (2017, *Sharp Minima Can Generalize For Deep Nets*,
# ICML) used this to show that any flat minimum can be made arbitrarily sharp without changing
# what the network does: raw sharpness (trace, top eigenvalue, $\epsilon$-sharpness) measures a
# choice of parameterisation as much as the geometry of the function. Comparisons need measures
# invariant to such rescalings, or a normalisation that removes them, such as the filter
# normalisation of section 6.
#
# `rescale_hidden_units(params, layer_in, layer_out, c)` applies the rescaling to two consecutive
# linear layers of an `nn.Sequential` (in `lab.make_mlp`'s networks, the layers "0" and "2", or "2"
# and "4"), with one factor for all units or one per unit. Compute in float64 and cast back to each
# tensor's dtype.

# %% id="rescale-hidden-units-solution" role="answer" solution="rescale_hidden_units" section="5"
from collections.abc import Mapping

import torch

# %% role="visible" item="rescale_hidden_units"
# Visible tests for `rescale_hidden_units` on a 2 -> 8 -> 8 -> 4 MLP (Linear layers "0", "2", "4").
_net = lab.make_mlp(hidden=(8, 8), seed=0)
_p = lab.params_of(_net)
_p_before = {k: v.clone() for k, v in _p.items()}
_q = rescale_hidden_units(_p, "0", "2", 4.0)
assert isinstance(_q, dict) and list(_q) == list(_p), "return a dict with the keys of params, in order"
assert torch.allclose(_q["0.weight"], 4 * _p["0.weight"]), "layer_in's weight rows are multiplied by c"
assert torch.allclose(_q["0.bias"], 4 * _p["0.bias"]), "layer_in's bias is multiplied by c too"
assert torch.allclose(_q["2.weight"], _p["2.weight"] / 4), "layer_out's weight columns are divided by c"
assert torch.equal(_q["2.bias"], _p["2.bias"]) and torch.equal(_q["4.weight"], _p["4.weight"]), (
    "layer_out's bias and all other layers are unchanged")
assert all(_q[k].dtype == _p[k].dtype for k in _p), "every tensor keeps its dtype"
_X = lab.make_dataset(n_train=32, n_test=1, seed=0).X_train
with torch.no_grad():
    _out_p = torch.func.functional_call(_net, _p, (_X,))
    _c = torch.linspace(0.5, 2.0, 8)  # one factor per hidden unit
    _q2 = rescale_hidden_units(_p, "2", "4", _c)
    assert torch.allclose(_q2["2.weight"], _p["2.weight"] * _c[:, None]), "with a tensor c, row i is scaled by c[i]"
    assert torch.allclose(_q2["4.weight"], _p["4.weight"] / _c[None, :]), "... and column i divided by c[i]"
    for _params in (_q, _q2):
        _out = torch.func.functional_call(_net, _params, (_X,))
        assert torch.allclose(_out, _out_p, atol=1e-5), (
            f"the rescaled network must compute the same outputs; max difference {float((_out - _out_p).abs().max()):.2e}")
assert all(torch.equal(_p[k], _p_before[k]) for k in _p), "params must not be changed"
for _bad_c in (0.0, -1.0):
    try:
        rescale_hidden_units(_p, "0", "2", _bad_c)
    except ValueError:
        pass
    else:
        raise AssertionError(f"c = {_bad_c} should raise ValueError (the factors must be positive)")
print("rescale_hidden_units: visible tests passed")

# %% role="hidden" item="rescale_hidden_units"

# %% [markdown] id="demo-rescale-intro"
# ### Demonstration: same function, different sharpness
#
# We rescale the first hidden layer (layers "0" → "2") of the *flat* batch-32 solution of section
# 4.3 with $c = 0.25$ and $c = 4$ (powers of two: every multiplication is exact), and print the
# largest change of any test-set logit, the test loss and accuracy, and the trace and top
# eigenvalue of the training loss.

# %% id="demo-rescale" role="demo"
with needs("hvp", "rademacher_probes", "hutchinson_trace", "top_eigenvalue", "rescale_hidden_units"):
    flat_params = lab.params_of(nets["batch 32"])
    probes = rademacher_probes(100, theta_of["batch 32"].numel(), torch.Generator().manual_seed(0))
    with torch.no_grad():
        reference_out = torch.func.functional_call(model, flat_params, (X_test,))
    print(f"{'c':>5} {'max |delta output|':>19} {'test loss':>9} {'test acc':>8} {'trace':>7} {'top eig':>7}")
    for c in (1.0, 0.25, 4.0):
        params = rescale_hidden_units(flat_params, "0", "2", c)
        with torch.no_grad():
            delta = float((torch.func.functional_call(model, params, (X_test,)) - reference_out).abs().max())
        test_loss, test_acc = lab.evaluate(model, X_test, y_test, params)
        theta = lab.flatten_params(params)
        trace = hutchinson_trace(train_loss_fn, theta, probes)
        top = top_eigenvalue(train_loss_fn, theta, num_iters=100, generator=torch.Generator().manual_seed(0))
        print(f"{c:>5} {delta:>19.1e} {test_loss:>9.4f} {test_acc:>8.3f} {trace:>7.1f} {top:>7.2f}")
    print(f"\nfor comparison, the SHARP full-batch solution: trace "
          f"{hutchinson_trace(train_loss_fn, theta_of['full batch'], probes):.1f}")

# %% [markdown] id="demo-rescale-after"
# **What to look for.** The outputs do not change at all (a difference of exactly 0 here, because
# multiplying by 4 or 1/4 is exact in binary floating point), so the test loss and accuracy are identical. The trace and the top eigenvalue
# change a lot: rescaled with $c = 0.25$, the trace of the "flat" batch-32 solution grows from
# about 32 to about 310, far above the 67 of the "sharp" full-batch solution of section 4.3, for
# the same function. Section 4.3 compared two networks in their *training* parameterisation (same
# initialisation, optimiser and epochs), which is why it still says something; "this minimum is
# sharp, so it generalises badly" does not survive a change of parameterisation.
