# %% [markdown] id="hvp-intro"
# ## 1. Curvature: the Hessian and Hessian-vector products
#
# Near a point $\theta$ the loss is, to second order,
#
# $$L(\theta + \epsilon) \;\approx\; L(\theta) + g^\top\epsilon + \tfrac12\,\epsilon^\top H\,\epsilon,
# \qquad g = \nabla L(\theta),\quad H = \nabla^2 L(\theta),\quad H_{ij} = \frac{\partial^2 L}{\partial\theta_i\,\partial\theta_j}.$$
#
# $H$ is a symmetric $d\times d$ matrix with real eigenvalues $\lambda_1, \dots, \lambda_d$ and
# orthonormal eigenvectors $u_1, \dots, u_d$. At a minimum $g = 0$ and along $u_k$,
# $L(\theta + t\,u_k) \approx L(\theta) + \tfrac12\lambda_k t^2$: a large $\lambda_k$ is a
# *sharp* direction, a small one a *flat* direction, a negative one a direction in which the loss
# still goes *down*.
#
# **The problem is size.** Our main MLPs have $d = 1284$ parameters; a ResNet-50 has $d \approx 25$ million, and its Hessian would take 2.5
# petabytes in float32. So everything below uses $H$ only through **Hessian-vector products**,
# which automatic differentiation computes *exactly* for about two gradient evaluations:
#
# $$Hv \;=\; \nabla_\theta\big(\nabla_\theta L(\theta)^\top v\big)\qquad(v \text{ fixed}).$$
#
# This is Pearlmutter's trick (Pearlmutter, 1994, *Fast exact multiplication by the Hessian*). In
# PyTorch: a backward pass with `create_graph=True`, the dot product with $v$, a second backward
# pass.
#
# **Why not finite differences?** $Hv \approx \big(g(\theta + hv) - g(\theta - hv)\big)/(2h)$ has a
# truncation error shrinking like $h^2$ and a rounding error *growing* like
# $\varepsilon_{\text{machine}}/h$. In float32 ($\varepsilon \approx 1.2\times10^{-7}$) no step $h$
# gives more than a few correct digits; the demonstration below shows it.
#
# Details of the contract: take the gradient with respect to a detached clone of `theta`, so that
# neither the caller's tensor nor its `requires_grad` flag changes; return a result without
# autograd history; if the loss is linear in $\theta$ (or does not depend on it), the Hessian is
# zero — return zeros. Open a `torch.enable_grad()` block: callers may be inside `torch.no_grad()`.

# %% id="hvp-solution" role="answer" solution="hvp" section="1"
import torch

# %% role="visible" item="hvp"
# Visible tests for `hvp` on losses whose Hessian is known exactly.
_A = torch.tensor([[2.0, 1.0, 0.0], [1.0, 3.0, -1.0], [0.0, -1.0, 4.0]], dtype=torch.float64)
_b = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)


def _quadratic(theta):
    # L = 1/2 theta^T A theta + b^T theta: gradient A theta + b, Hessian A (everywhere)
    return 0.5 * theta @ (_A @ theta) + _b @ theta


_theta = torch.tensor([0.3, -0.7, 1.1], dtype=torch.float64)
_v = torch.tensor([1.0, 0.0, -2.0], dtype=torch.float64)
_hv = hvp(_quadratic, _theta, _v)
assert isinstance(_hv, torch.Tensor), f"hvp should return a tensor, got {type(_hv).__name__}"
assert _hv.shape == (3,) and _hv.dtype == torch.float64, (
    f"H v has theta's shape (3,) and dtype float64, got {tuple(_hv.shape)} {_hv.dtype}")
assert torch.allclose(_hv, _A @ _v), f"for a quadratic, H v = A v = {(_A @ _v).tolist()}; got {_hv.tolist()}"
assert not _theta.requires_grad, "hvp must not switch on theta.requires_grad (work on a detached clone)"
_theta_rg = _theta.clone().requires_grad_(True)
assert torch.allclose(hvp(_quadratic, _theta_rg, _v), _A @ _v), "a theta that requires grad gives the same H v"
assert _theta_rg.requires_grad, "hvp must not switch off theta.requires_grad either"
_cubic = hvp(lambda th: (th**3).sum() / 3, _theta, _v)
assert torch.allclose(_cubic, 2 * _theta * _v), (
    f"L = sum(theta**3) / 3 has Hessian diag(2 theta), so H v = 2 theta * v = {(2 * _theta * _v).tolist()}; "
    f"got {_cubic.tolist()}")
_zero = hvp(lambda th: _b @ th, _theta, _v)
assert torch.equal(_zero, torch.zeros(3, dtype=torch.float64)), (
    f"a linear loss has Hessian 0, so H v must be zeros; got {_zero}")
with torch.no_grad():
    assert torch.allclose(hvp(_quadratic, _theta, _v), _A @ _v), "hvp must also work inside torch.no_grad()"
try:
    hvp(_quadratic, _theta, torch.ones(4, dtype=torch.float64))
except ValueError:
    pass
else:
    raise AssertionError("v of shape (4,) for theta of shape (3,) should raise ValueError")
print("hvp: visible tests passed")

# %% role="hidden" item="hvp"

# %% [markdown] id="demo-tiny-intro"
# ### A network small enough for its full Hessian
#
# To check the tools against exact answers we use a 2 → 16 → 4 ReLU MLP with $d = 116$
# parameters, trained with full-batch Adam on the 4-arm spiral of notebook 01
# (`lab.make_dataset()`: 1024 training and 1024 test points, chance accuracy 0.25).
# `torch.autograd.functional.hessian` builds its $116\times116$ Hessian with $d$ backward passes.
# Exact comparisons are in float64; the loss we study is the **training** loss.

# %% id="demo-tiny-model" role="demo"
DATA = lab.make_dataset(seed=0)  # the 4-arm spiral: 1024 training and 1024 test points
X_train, y_train, X_test, y_test = DATA.X_train, DATA.y_train, DATA.X_test, DATA.y_test
N_TRAIN = X_train.shape[0]

tiny = lab.make_mlp(hidden=(16,), seed=0)  # 2 -> 16 -> 4, ReLU
lab.train(tiny, X_train, y_train, steps=1000, lr=0.01, batch_size=N_TRAIN, seed=0)  # full batch
tiny_loss = lab.flat_loss_fn(tiny, X_train, y_train)             # theta -> training loss
theta_tiny = lab.flatten_params(lab.params_of(tiny)).double()     # float64 for exact checks
H_tiny = torch.autograd.functional.hessian(tiny_loss, theta_tiny)  # the full d x d Hessian
grad_tiny = torch.func.grad(tiny_loss)(theta_tiny)

test_loss, test_acc = lab.evaluate(tiny, X_test, y_test)
print(f"tiny network: d = {theta_tiny.numel()} parameters, training loss {float(tiny_loss(theta_tiny)):.4f}, "
      f"test accuracy {test_acc:.3f}")
print(f"Hessian {tuple(H_tiny.shape)}, symmetric: {torch.allclose(H_tiny, H_tiny.T)}, "
      f"trace {float(H_tiny.trace()):.3f}; gradient norm {float(grad_tiny.norm()):.1e}")

# %% id="demo-hvp" role="demo"
with needs("hvp"):
    g = torch.Generator().manual_seed(0)
    v = torch.randn(theta_tiny.shape, generator=g, dtype=torch.float64)
    exact = H_tiny @ v
    scale = float(exact.norm())
    print(f"hvp, float64:  |hvp - H v| / |H v| = {float((hvp(tiny_loss, theta_tiny, v) - exact).norm()) / scale:.1e}")
    theta32, v32 = theta_tiny.float(), v.float()
    print(f"hvp, float32:  |hvp - H v| / |H v| = "
          f"{float((hvp(tiny_loss, theta32, v32).double() - exact).norm()) / scale:.1e}")
    grad32 = torch.func.grad(tiny_loss)  # the gradient function, evaluated in float32 below
    for h in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5):
        finite_difference = (grad32(theta32 + h * v32) - grad32(theta32 - h * v32)) / (2 * h)
        error = float((finite_difference.double() - exact).norm()) / scale
        print(f"central finite difference, float32, h = {h:.0e}:  relative error {error:.1e}")

# %% [markdown] id="demo-hvp-after"
# **What to look for.** In float64, `hvp` agrees with the full Hessian to about 15 digits; in
# float32 to about 7 — the rounding of the format. The finite differences are never that good:
# for a large $h$ the error is truncation (with ReLUs the gradient even has kinks), for a small
# $h$ rounding. The best $h$ depends on the problem; `hvp` has no step to tune.
