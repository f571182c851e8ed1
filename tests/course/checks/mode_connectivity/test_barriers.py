"""The hidden checks of notebook 01, section 3 (barriers), grade well: `barrier_height`,
`interpolated_barrier` and `is_linearly_connected`.

For every graded function: typical wrong implementations fail at least one part with a
message that names the problem, and correct implementations written differently from the
reference pass every part. (That the reference passes and the stub fails every part is
tested for all functions in tests/course/checks/test_registry.py.)
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.course.checks.mode_connectivity.helpers import _floats
from tests.course.checks.support import assert_fails, assert_passes_all

# ---------------------------------------------------------------------------------------------
# barrier_height


def barrier_interior_max(losses):
    values = _floats(losses, "losses", 2)
    return max(values[1:-1]) - (values[0] + values[-1]) / 2


def barrier_min_endpoint(losses):
    values = _floats(losses, "losses", 2)
    return max(values) - min(values[0], values[-1])


def barrier_no_validation(losses):
    values = [float(v) for v in losses]
    return max(values) - (values[0] + values[-1]) / 2 if values else 0.0


def barrier_numpy(losses):
    arr = np.asarray(losses, dtype=np.float64)
    if arr.size < 2 or np.isnan(arr).any():
        raise ValueError("losses needs at least two values and no NaN")
    return arr.max() - (arr[0] + arr[-1]) / 2


class LossesError(ValueError):
    """A student's own ValueError subclass."""


def barrier_tensor_out(losses):
    """float64 tensor arithmetic; returns a 0-d tensor (accepted for scalar results)."""
    t = torch.as_tensor(losses, dtype=torch.float64)
    if t.ndim != 1 or t.numel() < 2:
        raise LossesError("losses must be 1-D with at least 2 values")
    if torch.isnan(t).any():
        raise LossesError("losses contains NaN")
    return t.max() - (t[0] + t[-1]) / 2


def barrier_loops(losses):
    """Hand-written max, NaN found by v != v, the mean of the two endpoint excesses."""
    values = []
    for v in losses:
        v = float(v)
        if v != v:
            raise ValueError("losses: NaN found")
        values.append(v)
    if len(values) < 2:
        raise ValueError("losses: need at least two values")
    top = values[0]
    for v in values:
        if v > top:
            top = v
    return 0.5 * (top - values[0]) + 0.5 * (top - values[-1])


def barrier_float32(losses):
    """float32 arithmetic throughout (rounding within the scalar tolerance)."""
    t = torch.tensor([float(v) for v in losses], dtype=torch.float32)
    if len(t) < 2 or bool(torch.isnan(t).any()):
        raise ValueError("losses must have >= 2 values, none NaN")
    return float(t.max() - 0.5 * t[0] - 0.5 * t[-1])


def barrier_max_endpoint(losses):
    """Against the worse endpoint instead of the endpoints' mean."""
    values = _floats(losses, "losses", 2)
    return max(values) - max(values[0], values[-1])


def barrier_mean_all(losses):
    """Against the mean of all losses instead of the endpoints' mean."""
    values = _floats(losses, "losses", 2)
    return max(values) - sum(values) / len(values)


def barrier_len_only(losses):
    """Checks the length but lets NaN through."""
    values = [float(v) for v in losses]
    if len(values) < 2:
        raise ValueError("losses: at least 2 values")
    return max(values) - (values[0] + values[-1]) / 2


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (barrier_interior_max, r"expected 0\.45", "conventions"),
        (barrier_min_endpoint, r"expected 1\.095", "basic"),
        (barrier_no_validation, r"instead of raising ValueError", "errors"),
        (barrier_max_endpoint, r"expected 1\.095, got 1\.09\b", "basic"),
        (barrier_mean_all, r"expected 1\.095, got 0\.78", "basic"),
        (barrier_len_only, r"a NaN inside.*instead of raising ValueError", "errors"),
    ],
)
def test_barrier_height_wrong(fn, match, part):
    assert_fails("barrier_height", fn, match=match, in_parts=[part])


@pytest.mark.parametrize("fn", [barrier_numpy, barrier_tensor_out, barrier_loops, barrier_float32])
def test_barrier_height_alternatives(fn):
    assert_passes_all("barrier_height", fn)


# ---------------------------------------------------------------------------------------------
# interpolated_barrier


def _ib_inputs(losses, alphas, *, exact_ends=False):
    values = _floats(losses, "losses", 2)
    n = len(values)
    if alphas is None:
        return values, [i / (n - 1) for i in range(n)]
    positions = _floats(alphas, "alphas")
    if len(positions) != n:
        raise ValueError("alphas and losses differ in length")
    tol = 0.0 if exact_ends else 1e-6
    if abs(positions[0]) > tol or abs(positions[-1] - 1) > tol:
        raise ValueError("alphas must run from 0 to 1")
    return values, positions


def ib_is_barrier_height(losses, alphas=None):
    values, _ = _ib_inputs(losses, alphas)
    return max(values) - (values[0] + values[-1]) / 2


def ib_wrong_spacing(losses, alphas=None):
    values, positions = _ib_inputs(losses, alphas)
    if alphas is None:
        positions = [i / len(values) for i in range(len(values))]
    return max(v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions))


def ib_swapped_line(losses, alphas=None):
    values, positions = _ib_inputs(losses, alphas)
    return max(v - (a * values[0] + (1 - a) * values[-1]) for v, a in zip(values, positions))


def ib_exact_ends(losses, alphas=None):
    values, positions = _ib_inputs(losses, alphas, exact_ends=True)
    return max(v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions))


def ib_ignores_alphas(losses, alphas=None):
    values, _ = _ib_inputs(losses, alphas)
    n = len(values)
    return max(
        v - ((n - 1 - i) * values[0] + i * values[-1]) / (n - 1) for i, v in enumerate(values)
    )


def ib_no_length_check(losses, alphas=None):
    values = _floats(losses, "losses", 2)
    positions = (
        [i / (len(values) - 1) for i in range(len(values))] if alphas is None else list(alphas)
    )
    return max(v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions))


def ib_torch(losses, alphas=None):
    values = torch.as_tensor(losses, dtype=torch.float64)
    if values.numel() < 2 or bool(values.isnan().any()):
        raise ValueError("losses: at least 2 values, no NaN")
    if alphas is None:
        positions = torch.linspace(0, 1, values.numel(), dtype=torch.float64)
    else:
        positions = torch.as_tensor(alphas, dtype=torch.float64)
        if positions.shape != values.shape:
            raise ValueError("alphas must have one value per loss")
        if not (
            math.isclose(positions[0], 0, abs_tol=1e-6)
            and math.isclose(positions[-1], 1, abs_tol=1e-6)
        ):
            raise ValueError("alphas must start at 0 and end at 1")
    line = torch.lerp(values[0], values[-1], positions)
    return (values - line).max()


def _plain(values):
    return values.tolist() if isinstance(values, torch.Tensor) else values


def ib_numpy(losses, alphas=None):
    """numpy vectorised, np.linspace by default, np.isclose with the spec's tolerance."""
    arr = np.asarray(_plain(losses), dtype=np.float64)
    if arr.ndim != 1 or arr.size < 2 or np.isnan(arr).any():
        raise ValueError("losses: 1-D, at least 2 values, no NaN")
    if alphas is None:
        pos = np.linspace(0.0, 1.0, arr.size)
    else:
        pos = np.asarray(_plain(alphas), dtype=np.float64)
        if pos.shape != arr.shape or np.isnan(pos).any():
            raise ValueError("alphas must have one value per loss")
        ends_ok = np.isclose(pos[0], 0.0, rtol=0, atol=1e-6) and np.isclose(
            pos[-1], 1.0, rtol=0, atol=1e-6
        )
        if not ends_ok:
            raise ValueError("alphas must start at 0 and end at 1")
    return np.max(arr - ((1 - pos) * arr[0] + pos * arr[-1]))


def ib_loops(losses, alphas=None):
    """A running max over first + alpha·(last − first) (another rounding of the line)."""
    values = _floats(losses, "losses", 2)
    n = len(values)
    positions = [k / (n - 1) for k in range(n)] if alphas is None else _floats(alphas, "alphas")
    if len(positions) != n:
        raise ValueError(f"alphas has {len(positions)} entries, losses {n}")
    if not (-1e-6 <= positions[0] <= 1e-6) or not (1 - 1e-6 <= positions[-1] <= 1 + 1e-6):
        raise ValueError("alphas[0] must be 0 and alphas[-1] must be 1")
    first, last = values[0], values[-1]
    best = -math.inf
    for v, a in zip(values, positions):
        best = max(best, v - first - a * (last - first))
    return best


def ib_float32_torch(losses, alphas=None):
    """float32 torch.lerp line, clamped at 0 (harmless), a 0-d float32 tensor out."""
    t = torch.as_tensor(losses, dtype=torch.float32)
    if t.numel() < 2 or torch.isnan(t).any():
        raise LossesError("losses: at least two, no NaN")
    if alphas is None:
        a = torch.linspace(0, 1, t.numel())
    else:
        a = torch.as_tensor(alphas, dtype=torch.float32)
    if a.shape != t.shape:
        raise LossesError("alphas and losses differ in length")
    if abs(float(a[0])) > 1e-6 or abs(float(a[-1]) - 1) > 1e-6:
        raise LossesError("alphas must run from 0 to 1")
    return torch.clamp((t - torch.lerp(t[0], t[-1], a)).max(), min=0.0)


def _ib_checked(losses, alphas):
    values = _floats(losses, "losses", 2)
    n = len(values)
    positions = [k / (n - 1) for k in range(n)] if alphas is None else _floats(alphas, "alphas")
    if len(positions) != n:
        raise ValueError("alphas and losses differ in length")
    return values, positions


def ib_interior_only(losses, alphas=None):
    """The max over the interior points only: negative for a path below the line."""
    values, positions = _ib_checked(losses, alphas)
    if abs(positions[0]) > 1e-6 or abs(positions[-1] - 1) > 1e-6:
        raise ValueError("alphas must run from 0 to 1")
    inner = [
        v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values[1:-1], positions[1:-1])
    ]
    return max(inner, default=0.0)


def ib_np_isclose(losses, alphas=None):
    """np.isclose's default tolerances (atol 1e-8) instead of the spec's 1e-6."""
    values, positions = _ib_checked(losses, alphas)
    if not (np.isclose(positions[0], 0.0) and np.isclose(positions[-1], 1.0)):
        raise ValueError("alphas must start at 0 and end at 1")
    return max(v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions))


def ib_no_end_check(losses, alphas=None):
    """Never checks that alphas run from 0 to 1."""
    values, positions = _ib_checked(losses, alphas)
    return max(v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions))


def ib_mean_excess(losses, alphas=None):
    """The mean excess over the line instead of the max."""
    values, positions = _ib_checked(losses, alphas)
    if abs(positions[0]) > 1e-6 or abs(positions[-1] - 1) > 1e-6:
        raise ValueError("alphas must run from 0 to 1")
    diffs = [v - ((1 - a) * values[0] + a * values[-1]) for v, a in zip(values, positions)]
    return sum(diffs) / len(diffs)


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (ib_is_barrier_height, r"equals barrier_height", "default_alphas"),
        (ib_wrong_spacing, r"expected 1\.095, got 1\.096", "default_alphas"),
        (ib_swapped_line, r"line runs the wrong way", "default_alphas"),
        (ib_exact_ends, r"raised ValueError.*alphas\[0\] may differ from 0", "explicit_alphas"),
        (ib_ignores_alphas, r"uneven alphas", "explicit_alphas"),
        (ib_no_length_check, r"instead of raising ValueError", "errors"),
        (ib_interior_only, r"expected 0, got -0\.23.*never less", "default_alphas"),
        (ib_interior_only, r"expected 0, got -0\.28.*never less", "explicit_alphas"),
        (ib_np_isclose, r"raised ValueError.*alphas\[0\] may differ from 0", "explicit_alphas"),
        (ib_no_end_check, r"alphas\[0\] = 0\.1.*instead of raising ValueError", "errors"),
        (ib_mean_excess, r"expected 1\.095, got 0\.315", "default_alphas"),
    ],
)
def test_interpolated_barrier_wrong(fn, match, part):
    assert_fails("interpolated_barrier", fn, match=match, in_parts=[part])


@pytest.mark.parametrize("fn", [ib_torch, ib_numpy, ib_loops, ib_float32_torch])
def test_interpolated_barrier_alternatives(fn):
    assert_passes_all("interpolated_barrier", fn)


# ---------------------------------------------------------------------------------------------
# is_linearly_connected


def ilc_float32(losses, delta):
    t = torch.as_tensor(losses)
    if t.numel() < 2 or bool(t.isnan().any()):
        raise ValueError("losses: at least 2 values, no NaN")
    return bool((t <= torch.maximum(t[0], t[-1]) + delta).all())


def ilc_strict(losses, delta):
    values = _floats(losses, "losses", 2)
    return all(v < max(values[0], values[-1]) + delta for v in values[1:-1])


def ilc_min_endpoint(losses, delta):
    values = _floats(losses, "losses", 2)
    return all(v <= min(values[0], values[-1]) + delta for v in values[1:-1])


def ilc_int(losses, delta):
    values = _floats(losses, "losses", 2)
    return int(all(v <= max(values[0], values[-1]) + delta for v in values))


def ilc_no_nan_check(losses, delta):
    values = [float(v) for v in losses]
    if len(values) < 2:
        raise ValueError("losses: at least 2 values")
    return all(v <= max(values[0], values[-1]) + delta for v in values)


def ilc_numpy(losses, delta):
    arr = np.asarray(losses, dtype=np.float64)
    if arr.size < 2 or np.isnan(arr).any():
        raise ValueError("losses: at least 2 values, no NaN")
    return np.all(arr <= np.maximum(arr[0], arr[-1]) + delta)


def ilc_torch_float64(losses, delta):
    """A float64 tensor comparison; returns a 0-d bool tensor (accepted)."""
    t = torch.as_tensor(losses, dtype=torch.float64)
    if t.numel() < 2:
        raise LossesError("losses needs at least two entries")
    if torch.isnan(t).any():
        raise LossesError("losses has NaN")
    return (t <= torch.maximum(t[0], t[-1]) + delta).all()


def ilc_loop(losses, delta):
    """Python floats, a loop with an early return."""
    values = [float(v) for v in losses]
    if len(values) < 2 or any(math.isnan(v) for v in values):
        raise ValueError("losses: two or more numbers, no NaN")
    threshold = max(values[0], values[-1]) + float(delta)
    for v in values:  # noqa: SIM110 (an early-return loop is the style under test)
        if v > threshold:
            return False
    return True


def ilc_max_only(losses, delta):
    """Compares only the largest loss, in numpy float64."""
    arr = np.asarray([float(v) for v in losses], dtype=np.float64)
    if arr.size < 2 or np.isnan(arr).any():
        raise ValueError("losses: two or more numbers, no NaN")
    return bool(arr.max() <= max(arr[0], arr[-1]) + np.float64(delta))


def ilc_excess_form(losses, delta):
    """max − max(endpoints) ≤ delta: the same test after a subtraction instead of an addition."""
    values = _floats(losses, "losses", 2)
    return max(values) - max(values[0], values[-1]) <= delta


def ilc_midpoint_only(losses, delta):
    """Checks only the loss in the middle of the path."""
    values = _floats(losses, "losses", 2)
    return values[len(values) // 2] <= max(values[0], values[-1]) + delta


def ilc_interior_only(losses, delta):
    """Checks the losses between the endpoints only (the endpoints pass for delta >= 0)."""
    values = _floats(losses, "losses", 2)
    return all(v <= max(values[0], values[-1]) + delta for v in values[1:-1])


def ilc_mean_endpoints(losses, delta):
    """The threshold from the endpoints' mean instead of the worse endpoint."""
    values = _floats(losses, "losses", 2)
    return all(v <= (values[0] + values[-1]) / 2 + delta for v in values)


def ilc_barrier_le_delta(losses, delta):
    """barrier_height(losses) ≤ delta: measured against the endpoints' mean."""
    values = _floats(losses, "losses", 2)
    return max(values) - (values[0] + values[-1]) / 2 <= delta


@pytest.mark.parametrize(
    ("fn", "match", "part"),
    [
        (ilc_float32, r"expected False, got True.*compare in float64", "float64"),
        (ilc_strict, r"expected True, got False.*≤, not <", "threshold"),
        (ilc_min_endpoint, r"larger endpoint", "threshold"),
        (ilc_int, r"should be a bool", "basic"),
        (ilc_no_nan_check, r"instead of raising ValueError", "errors"),
        (ilc_interior_only, r"negative delta.*expected False, got True", "threshold"),
        (ilc_midpoint_only, r"peak away from the middle.*expected False, got True", "basic"),
        (
            ilc_mean_endpoints,
            r"expected True, got False.*not the smaller endpoint or their mean",
            "threshold",
        ),
        (
            ilc_barrier_le_delta,
            r"expected True, got False.*not the smaller endpoint or their mean",
            "threshold",
        ),
    ],
)
def test_is_linearly_connected_wrong(fn, match, part):
    assert_fails("is_linearly_connected", fn, match=match, in_parts=[part])


@pytest.mark.parametrize(
    "fn", [ilc_numpy, ilc_torch_float64, ilc_loop, ilc_max_only, ilc_excess_form]
)
def test_is_linearly_connected_alternatives(fn):
    assert_passes_all("is_linearly_connected", fn)
