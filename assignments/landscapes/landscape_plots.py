"""Plots for the *landscapes* notebooks (paths, surfaces, sparsity curves, spectra), and `needs`.

This module is released with the notebooks beside `landscape_lab`, which gives its functions
too (``lab.plot_path`` is this module's `plot_path`). It is not graded, and it is restored from
the release at grading time. Every function takes an optional matplotlib `ax` and returns the
Axes it drew on. matplotlib is imported only when you plot, and its default backend choice is
left alone (it falls back to the non-interactive Agg backend when there is no display).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from landscape_lab import _check_data, _logits
from torch import nn

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = [
    "needs",
    "plot_decision_boundary",
    "plot_path",
    "plot_sparsity_curve",
    "plot_spectrum",
    "plot_surface",
]

ArrayLike = Sequence[float] | np.ndarray | torch.Tensor

SYMLOG_LINTHRESH = 1e-3
"""Half-width of the linear region of the symlog axis in `plot_spectrum`."""

DECISION_GRID = 200
"""Grid points per axis of `plot_decision_boundary`."""

DECISION_MARGIN = 0.25
"""Fraction of the data range added on each side of the `plot_decision_boundary` grid."""

_TWINS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _axes(ax: Axes | None) -> Axes:
    """Return `ax`, or a new figure's Axes when it is None (imports matplotlib lazily)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new_ax = plt.subplots()
    return new_ax


def _to_numpy(values: ArrayLike | Any, name: str, ndim: int) -> np.ndarray:
    """Convert a sequence, array or tensor to a float64 numpy array with `ndim` dimensions."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().to(torch.float64).numpy()
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {arr.shape}")
    return arr


def plot_path(
    alphas: ArrayLike,
    losses: ArrayLike,
    *,
    accuracies: ArrayLike | None = None,
    label: str | None = None,
    ax: Axes | None = None,
    title: str | None = "Loss along the path",
) -> Axes:
    """Plot loss (and optionally accuracy) against alpha along a path between two solutions.

    Call it once per path on the same `ax` to compare, e.g., the linear path and a Bezier
    curve. Accuracies go on a twin y-axis (dashed, same colour as the loss curve); repeated
    calls on one `ax` reuse the same twin.

    Args:
        alphas: 1-D sequence/array/tensor of path positions (alpha = 0 is theta_a, 1 is theta_b).
        losses: 1-D, same length: mean cross-entropy at each alpha.
        accuracies: optional 1-D, same length: accuracy in [0, 1] at each alpha.
        label: legend label of this path (e.g. "linear", "Bezier").
        ax: matplotlib Axes to draw on; a new figure is made when None.
        title: Axes title (None leaves the title alone).

    Returns:
        The Axes holding the loss curve.
    """
    a = _to_numpy(alphas, "alphas", 1)
    loss = _to_numpy(losses, "losses", 1)
    if loss.shape != a.shape:
        raise ValueError(f"losses has length {loss.size} but alphas has length {a.size}")
    acc = None
    if accuracies is not None:
        acc = _to_numpy(accuracies, "accuracies", 1)
        if acc.shape != a.shape:
            raise ValueError(f"accuracies has length {acc.size} but alphas has length {a.size}")
    ax = _axes(ax)
    (line,) = ax.plot(a, loss, marker="o", markersize=3, label=label)
    ax.set_xlabel(r"$\alpha$  (0 = $\theta_a$, 1 = $\theta_b$)")
    ax.set_ylabel("loss (mean cross-entropy)")
    handles, labels = ax.get_legend_handles_labels()
    if acc is not None:
        twin = _TWINS.get(ax)
        if twin is None:
            twin = ax.twinx()
            _TWINS[ax] = twin
        acc_label = None if label is None else f"{label} (accuracy)"
        twin.plot(a, acc, linestyle="--", color=line.get_color(), label=acc_label)
        twin.set_ylabel("accuracy (dashed)")
        twin.set_ylim(0.0, 1.05)
    twin = _TWINS.get(ax)
    if twin is not None:
        more_handles, more_labels = twin.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    if handles:
        ax.legend(handles, labels, loc="best", fontsize="small")
    if title is not None:
        ax.set_title(title)
    return ax


def _contour_levels(levels: int | ArrayLike) -> int | np.ndarray:
    """`levels` of `plot_surface` checked: an int >= 1, or increasing finite values."""
    if isinstance(levels, bool):
        raise ValueError(f"levels must be an int >= 1 or a sequence of values, got {levels!r}")
    if isinstance(levels, int):
        if levels < 1:
            raise ValueError(f"levels must be an int >= 1, got {levels!r}")
        return levels
    values = _to_numpy(levels, "levels", 1)
    if values.size < 2 or not np.all(np.isfinite(values)) or not np.all(np.diff(values) > 0):
        raise ValueError(
            f"levels must be an increasing sequence of at least 2 finite values, got {values}"
        )
    return values


def plot_surface(
    alphas: ArrayLike,
    betas: ArrayLike,
    Z: ArrayLike,
    *,
    ax: Axes | None = None,
    levels: int | ArrayLike = 30,
    log: bool = False,
    title: str | None = "Filter-normalised loss surface",
) -> Axes:
    """Contour plot of a 2-D loss surface around theta, with the centre (theta) marked.

    Args:
        alphas: 1-D, length A: steps along the first direction d1 (x axis).
        betas: 1-D, length B: steps along the second direction d2 (y axis).
        Z: 2-D, shape (A, B): Z[i, j] = L(theta + alphas[i] d1 + betas[j] d2), as returned
            by `loss_surface`.
        ax: matplotlib Axes to draw on; a new figure is made when None.
        levels: int >= 1, the number of contour levels (placed by matplotlib for this Z
            alone), or a 1-D increasing sequence of at least 2 level values (log10 of the loss
            when `log`). To compare several plots, pass them all the same sequence: with a
            number, each plot gets levels of its own and equal colours mean different losses.
        log: contour log10 of the loss (useful when the loss spans orders of magnitude);
            needs Z > 0.
        title: Axes title (None leaves the title alone).

    Returns:
        The Axes.
    """
    a = _to_numpy(alphas, "alphas", 1)
    b = _to_numpy(betas, "betas", 1)
    z = _to_numpy(Z, "Z", 2)
    if z.shape != (a.size, b.size):
        raise ValueError(
            f"Z must have shape (len(alphas), len(betas)) = {(a.size, b.size)}, got {z.shape}"
        )
    levels = _contour_levels(levels)
    if log:
        if not np.all(z > 0):
            raise ValueError("Z must be positive when log=True")
        z = np.log10(z)
    ax = _axes(ax)
    contour = ax.contourf(a, b, z.T, levels=levels, cmap="viridis")
    ax.contour(a, b, z.T, levels=levels, colors="k", linewidths=0.3)
    colorbar = ax.figure.colorbar(contour, ax=ax)
    colorbar.set_label("log10 loss" if log else "loss")
    ax.plot(
        [0.0], [0.0], marker="*", color="red", markersize=12, linestyle="none", label=r"$\theta$"
    )
    ax.set_xlabel(r"$\alpha$ (direction $d_1$)")
    ax.set_ylabel(r"$\beta$ (direction $d_2$)")
    ax.legend(loc="upper right", fontsize="small")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_sparsity_curve(
    sparsities: ArrayLike,
    curves: Mapping[str, Sequence[float] | np.ndarray | torch.Tensor],
    *,
    ax: Axes | None = None,
    ylabel: str = "test accuracy",
    title: str | None = "Accuracy against sparsity",
) -> Axes:
    """Plot one curve per method (e.g. "rewound ticket", "random re-init") against sparsity.

    Args:
        sparsities: 1-D, length S: fraction of prunable weights removed, each in [0, 1]
            (plotted as percent pruned).
        curves: dict from legend label to a 1-D sequence of length S (e.g. test accuracies).
        ax: matplotlib Axes to draw on; a new figure is made when None.
        ylabel: label of the y axis.
        title: Axes title (None leaves the title alone).

    Returns:
        The Axes.
    """
    s = _to_numpy(sparsities, "sparsities", 1)
    if np.any((s < 0) | (s > 1)):
        raise ValueError("sparsities must lie in [0, 1]")
    if not isinstance(curves, Mapping) or not curves:
        raise ValueError("curves must be a non-empty dict from label to values")
    ax = _axes(ax)
    for name, values in curves.items():
        v = _to_numpy(values, f"curves[{name!r}]", 1)
        if v.shape != s.shape:
            raise ValueError(f"curves[{name!r}] has length {v.size} but sparsities has {s.size}")
        ax.plot(100.0 * s, v, marker="o", markersize=4, label=str(name))
    ax.set_xlabel("weights pruned (%)")
    ax.set_ylabel(ylabel)
    ax.legend(loc="best", fontsize="small")
    ax.grid(True, alpha=0.3)
    if title is not None:
        ax.set_title(title)
    return ax


def plot_spectrum(
    eigenvalues: ArrayLike,
    *,
    ax: Axes | None = None,
    title: str | None = "Hessian spectrum",
) -> Axes:
    """Plot eigenvalues sorted from largest to smallest on a symlog y axis.

    The symlog scale (linear within ±`SYMLOG_LINTHRESH`, logarithmic beyond) shows the few
    large outliers, the bulk near zero and any negative eigenvalues together.

    Args:
        eigenvalues: 1-D sequence/array/tensor of real eigenvalues (any order).
        ax: matplotlib Axes to draw on; a new figure is made when None.
        title: Axes title (None leaves the title alone).

    Returns:
        The Axes.
    """
    ev = _to_numpy(eigenvalues, "eigenvalues", 1)
    if ev.size == 0:
        raise ValueError("eigenvalues must not be empty")
    ev = np.sort(ev)[::-1]
    ax = _axes(ax)
    ax.plot(np.arange(1, ev.size + 1), ev, marker=".", linestyle="-")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_yscale("symlog", linthresh=SYMLOG_LINTHRESH)
    ax.set_xlabel("index k (largest first)")
    ax.set_ylabel(r"eigenvalue $\lambda_k$ (symlog)")
    if title is not None:
        ax.set_title(title)
    return ax


def plot_decision_boundary(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    params: Mapping[str, torch.Tensor] | None = None,
    ax: Axes | None = None,
    *,
    title: str | None = "Decision regions",
) -> Axes:
    """Colour the plane by the model's predicted class and scatter the data on top.

    Args:
        model: `nn.Module` mapping (N, 2) inputs to (N, C) logits; not modified.
        X: float tensor of shape (N, 2).
        y: int64 tensor of shape (N,).
        params: optional `Params` to use instead of the model's own parameters.
        ax: matplotlib Axes to draw on; a new figure is made when None.
        title: Axes title (None leaves the title alone).

    Returns:
        The Axes.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module, got {type(model).__name__}")
    _check_data(X, y)
    if X.shape[1] != 2:
        raise ValueError(f"X must have 2 columns, got shape {tuple(X.shape)}")
    if X.shape[0] == 0:
        raise ValueError("X must have at least one row")
    lo = X.min(dim=0).values
    hi = X.max(dim=0).values
    pad = DECISION_MARGIN * (hi - lo)
    xs = torch.linspace(float(lo[0] - pad[0]), float(hi[0] + pad[0]), DECISION_GRID)
    ys = torch.linspace(float(lo[1] - pad[1]), float(hi[1] + pad[1]), DECISION_GRID)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1).to(X.dtype)
    logits = _logits(model, grid, params)
    pred = logits.argmax(dim=1).reshape(gx.shape).numpy()
    num_classes = max(int(logits.shape[1]), int(y.max()) + 1)
    ax = _axes(ax)
    ax.contourf(
        xs.numpy(),
        ys.numpy(),
        pred,
        levels=np.arange(num_classes + 1) - 0.5,
        cmap="tab10",
        vmin=-0.5,
        vmax=9.5,
        alpha=0.3,
    )
    ax.scatter(
        X[:, 0].numpy(),
        X[:, 1].numpy(),
        c=y.numpy(),
        cmap="tab10",
        vmin=-0.5,
        vmax=9.5,
        s=6,
        edgecolors="none",
    )
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal")
    if title is not None:
        ax.set_title(title)
    return ax


# --------------------------------------------------------------------------------------------
# Demonstrations that depend on your functions


class needs:
    """Run a demonstration only once the functions it uses are implemented.

    Use as ``with needs("interpolate", "loss_along_path"):``. If the block raises
    ``NotImplementedError`` (a function is still the stub), the block stops and a short note
    says which functions to implement; any other error is raised as usual, so real bugs stay
    visible. Either way the notebook keeps running.
    """

    def __init__(self, *names: str) -> None:
        self.names = names

    def __enter__(self) -> needs:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> bool:
        if exc_type is not None and issubclass(exc_type, NotImplementedError):
            listed = ", ".join(f"`{n}`" for n in self.names) or "the functions above"
            print(f"(demonstration skipped: implement {listed} above, then run this cell again)")
            return True
        return False
