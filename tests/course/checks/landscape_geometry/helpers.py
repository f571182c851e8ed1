"""Helpers shared by the student-style implementations of notebook 02's functions
(input checks and Hessian-vector products written once), and hvp_backward_on_theta, a
mistake in hvp's table that top_eigenvalue's top_backward_on_theta builds on."""

from __future__ import annotations

import torch


def _rows(x, theta, name):
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != theta.numel():
        raise ValueError(f"{name} must be 2-D with one column per parameter")
    return x


def _like_theta(v, theta, name="v"):
    if v.shape != theta.shape:
        raise ValueError(f"{name} must have theta's shape")
    return v


def _double_backward(loss_fn, theta, v):
    """H·v by double backward, without the guard for a gradient independent of theta."""
    x = theta.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(x), x, create_graph=True)
    (hv,) = torch.autograd.grad(g, x, grad_outputs=v)
    return hv.detach()


def _func_hvp(loss_fn, theta, v):
    """H·v forward-over-reverse with torch.func (no guard needed for zero Hessians)."""
    return torch.func.jvp(torch.func.grad(loss_fn), (theta.detach(),), (v.to(theta.dtype),))[1]


def hvp_backward_on_theta(loss_fn, theta, v):
    """Runs .backward() through theta itself when it requires grad: theta.grad piles up."""
    _like_theta(v, theta)
    x = theta if theta.requires_grad else theta.detach().requires_grad_(True)
    loss = loss_fn(x)
    if not loss.requires_grad:
        return torch.zeros_like(theta).detach()
    (g,) = torch.autograd.grad(loss, x, create_graph=True)
    if not g.requires_grad:
        return torch.zeros_like(theta).detach()
    (g * v).sum().backward()
    return x.grad.detach().clone()
