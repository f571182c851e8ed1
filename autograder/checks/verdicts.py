"""Stage 3 of a hidden check: judge an :class:`Outcome`.

Checks run in a fixed order and stop at the first failure: the call returned → the type →
the shape → the dtype → the values. Every message says what went wrong with the student's
result ("key 'w': at index (0, 1) expected 0.75, got 0.25"), never only what should hold.

Types are checked by exact type (`type(x) is torch.Tensor`), so a tensor subclass or an
object with a lying `__eq__` is never taken for a tensor or a number. Values are compared on
float64 copies made here, not with anything the student's object provides.

A convention alone earns nothing. A part that checks a convention (the inputs are left as
they were, the dtype, the types in and out, no gradient left behind, ...) pays only when the
function's results on that part's cases are right too: otherwise `return 0.0` or `return
losses` would earn it, since doing nothing breaks no convention. So the helpers here that
judge a convention (:func:`leaves_inputs_unchanged`) take a required keyword `results`, the
verdict on what the call returned (usually the reference comparison the function's other
parts use), and refuse None when the checks are built. An assignment's own convention
verdicts follow the same rule.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from .call import materialize, snapshot
from .types import Case, Outcome, Verdict

# Tolerances, by the dtype of the expected result.
RTOL_FLOAT32 = 1e-4
ATOL_FLOAT32 = 1e-5
RTOL_FLOAT64 = 1e-7
ATOL_FLOAT64 = 1e-9
# Python-float results are computed in float64 by the reference but may be computed in
# float32 by a correct student implementation; this is the default for scalars.
RTOL_SCALAR = 1e-4
ATOL_SCALAR = 1e-6

DICT_TYPES = (dict, OrderedDict)
"""The dict types a result may have (exact types: a dict subclass is not a dict here)."""
_MAX_SHOWN = 12  # at most this many elements of a tensor are printed in a message


def fmt_value(x: Any) -> str:
    """A short, safe description of a (possibly hostile) returned object."""
    if type(x) is torch.Tensor:
        t = x.detach()
        if t.numel() <= _MAX_SHOWN:
            return f"tensor({t.tolist()}, dtype={t.dtype})"
        return f"tensor of shape {tuple(t.shape)}, dtype {t.dtype}"
    if type(x) in (float, int, bool, str, type(None)):
        return repr(x)
    if isinstance(x, np.generic) and type(x).__module__ == "numpy":
        return f"numpy {type(x).__name__} {x.item()!r}"
    if type(x) in DICT_TYPES:
        return f"dict with keys {list(x.keys())!r}"
    if type(x) in (list, tuple, set, frozenset):
        return f"{type(x).__name__} of length {len(x)}"
    return f"an object of type {type(x).__module__}.{type(x).__qualname__}"


def _type_name(x: Any) -> str:
    t = type(x)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


# ---------------------------------------------------------------------------------------------
# The first step: did the call return?


def call_failure(outcome: Outcome, name: str) -> str | None:
    """A message if the call did not return normally, else None."""
    if outcome.status == "returned":
        return None
    if outcome.status == "timeout":
        return (
            f"`{name}` did not return within the time limit ({outcome.error_message}): "
            "look for a loop that never ends or far more work than the task needs"
        )
    if outcome.error_type == "NotImplementedError":
        return (
            f"`{name}` raised NotImplementedError: it is still the stub. Replace "
            "`raise NotImplementedError()` with your implementation"
        )
    return f"`{name}` raised {outcome.error_type}: {outcome.error_message}"


# ---------------------------------------------------------------------------------------------
# Conversions by exact type (never trusting the object's own methods)


def as_scalar(x: Any) -> float | None:
    """A Python float for a float/int, numpy scalar or 0-d tensor; None for anything else."""
    if type(x) in (float, int):
        return float(x)
    if isinstance(x, np.generic) and type(x).__module__ == "numpy":
        if isinstance(x, (np.floating, np.integer)):
            return float(x)
        return None
    if (
        type(x) is torch.Tensor
        and x.dim() == 0
        and not x.dtype.is_complex
        and x.dtype != torch.bool
    ):
        return float(x.detach().to(torch.float64).item())
    return None


def as_int(x: Any) -> int | None:
    """An int for an int, numpy integer or 0-d integer tensor; None otherwise (bool too)."""
    if type(x) is int:
        return x
    if isinstance(x, np.integer) and type(x).__module__ == "numpy":
        return int(x)
    if (
        type(x) is torch.Tensor
        and x.dim() == 0
        and not x.dtype.is_floating_point
        and not x.dtype.is_complex
        and x.dtype != torch.bool
    ):
        return int(x.item())
    return None


def as_bool(x: Any) -> bool | None:
    """A bool for a bool, numpy bool or 0-d bool tensor; None otherwise."""
    if type(x) is bool:
        return x
    if type(x) is np.bool_:
        return bool(x)
    if type(x) is torch.Tensor and x.dim() == 0 and x.dtype == torch.bool:
        return bool(x.item())
    return None


def tolerances(dtype: torch.dtype) -> tuple[float, float]:
    if dtype == torch.float64:
        return RTOL_FLOAT64, ATOL_FLOAT64
    return RTOL_FLOAT32, ATOL_FLOAT32


# ---------------------------------------------------------------------------------------------
# Comparisons: each returns None when equal, else a message about `what`


def compare_float(
    got: Any, expected: float, *, what: str, rtol: float = RTOL_SCALAR, atol: float = ATOL_SCALAR
) -> str | None:
    value = as_scalar(got)
    if value is None:
        return f"{what} should be a float, got {fmt_value(got)}"
    if math.isnan(expected):
        return None if math.isnan(value) else f"{what}: expected NaN, got {value!r}"
    if math.isinf(expected):
        return None if value == expected else f"{what}: expected {expected!r}, got {value!r}"
    if not math.isfinite(value) or abs(value - expected) > atol + rtol * abs(expected):
        return f"{what}: expected {expected:.10g}, got {value:.10g}"
    return None


def compare_int(got: Any, expected: int, *, what: str) -> str | None:
    value = as_int(got)
    if value is None:
        return f"{what} should be an int, got {fmt_value(got)}"
    if value != expected:
        return f"{what}: expected {expected}, got {value}"
    return None


def compare_bool(got: Any, expected: bool, *, what: str) -> str | None:
    value = as_bool(got)
    if value is None:
        return f"{what} should be a bool (True or False), got {fmt_value(got)}"
    if value != expected:
        return f"{what}: expected {expected}, got {value}"
    return None


def compare_str(got: Any, expected: str, *, what: str) -> str | None:
    if type(got) is np.str_:  # numpy's string scalar (e.g. picked from an array of labels)
        got = str.__str__(got)
    if type(got) is not str:
        return f"{what} should be a str, got {fmt_value(got)}"
    if got != expected:
        return f"{what}: expected {expected!r}, got {got!r}"
    return None


def index_str(flat_index: int, shape: tuple[int, ...]) -> str:
    """The position of a flat (row-major) index in a tensor of `shape`, e.g. ``(1, 2)``."""
    if not shape:
        return "()"
    idx = np.unravel_index(flat_index, shape)
    return "(" + ", ".join(str(int(i)) for i in idx) + ("," if len(shape) == 1 else "") + ")"


def compare_tensor(
    got: Any,
    expected: torch.Tensor,
    *,
    what: str,
    rtol: float | None = None,
    atol: float | None = None,
    check_dtype: bool = True,
) -> str | None:
    """Exact type, shape, dtype, then values (NaN equal to NaN, booleans exactly)."""
    if type(got) is not torch.Tensor:
        return f"{what} should be a torch.Tensor, got {fmt_value(got)}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"{what} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}" + (
            " (transposed?)" if tuple(got.shape) == tuple(expected.shape)[::-1] else ""
        )
    if check_dtype and got.dtype != expected.dtype:
        return f"{what} has dtype {got.dtype}, expected {expected.dtype}"
    if got.is_complex() or got.layout != torch.strided:
        return f"{what} should be a dense real tensor"
    g = got.detach().cpu()
    e = expected.detach().cpu()
    if e.dtype == torch.bool or not e.dtype.is_floating_point:
        g64 = g.to(torch.int64).reshape(-1)
        e64 = e.to(torch.int64).reshape(-1)
        bad = (g64 != e64).nonzero().reshape(-1)
        if bad.numel():
            i = int(bad[0])
            return (
                f"{what} differs in {bad.numel()} of {e.numel()} entries; first at index "
                f"{index_str(i, tuple(e.shape))}: expected {_show(e, i)}, got {_show(g, i)}"
            )
        return None
    default_rtol, default_atol = tolerances(e.dtype)
    rtol = default_rtol if rtol is None else rtol
    atol = default_atol if atol is None else atol
    g64 = g.to(torch.float64).reshape(-1)
    e64 = e.to(torch.float64).reshape(-1)
    both_nan = torch.isnan(g64) & torch.isnan(e64)
    same_inf = torch.isinf(e64) & (g64 == e64)
    close = (g64 - e64).abs() <= atol + rtol * e64.abs()
    ok = both_nan | same_inf | close
    bad = (~ok).nonzero().reshape(-1)
    if bad.numel():
        i = int(bad[0])
        diff = (g64 - e64).abs()
        diff = diff[~torch.isnan(diff)]
        worst = f"; max abs difference {float(diff.max()):.3g}" if diff.numel() else ""
        return (
            f"{what} differs in {bad.numel()} of {e.numel()} entries; first at index "
            f"{index_str(i, tuple(e.shape))}: expected {float(e64[i]):.8g}, got "
            f"{float(g64[i]):.8g}{worst}"
        )
    return None


def _show(t: torch.Tensor, i: int) -> str:
    v = t.reshape(-1)[i].item()
    return repr(v)


def compare_tensor_dict(
    got: Any,
    expected: Mapping[str, torch.Tensor],
    *,
    what: str,
    rtol: float | None = None,
    atol: float | None = None,
    check_dtype: bool = True,
) -> str | None:
    """A dict (or OrderedDict) with exactly the expected keys, each tensor compared."""
    if type(got) not in DICT_TYPES:
        return f"{what} should be a dict of tensors, got {fmt_value(got)}"
    got_keys = list(got.keys())
    if set(got_keys) != set(expected.keys()):
        missing = [k for k in expected if k not in got]
        extra = [k for k in got_keys if k not in expected]
        return f"{what} has the wrong keys: missing {missing!r}, unexpected {extra!r}"
    for key, exp in expected.items():
        msg = compare_tensor(
            got[key], exp, what=f"{what}[{key!r}]", rtol=rtol, atol=atol, check_dtype=check_dtype
        )
        if msg:
            return msg
    return None


def compare_value(
    got: Any, expected: Any, *, what: str, rtol: float | None = None, atol: float | None = None
) -> str | None:
    """Dispatch on the type of the reference result."""
    if type(expected) is bool:
        return compare_bool(got, expected, what=what)
    if type(expected) is int:
        return compare_int(got, expected, what=what)
    if type(expected) is float:
        return compare_float(
            got,
            expected,
            what=what,
            rtol=RTOL_SCALAR if rtol is None else rtol,
            atol=ATOL_SCALAR if atol is None else atol,
        )
    if type(expected) is str:
        return compare_str(got, expected, what=what)
    if type(expected) is torch.Tensor:
        return compare_tensor(got, expected, what=what, rtol=rtol, atol=atol)
    if isinstance(expected, Mapping):
        return compare_tensor_dict(got, expected, what=what, rtol=rtol, atol=atol)
    if type(expected) is list:
        if type(got) is not list:
            return f"{what} should be a list, got {fmt_value(got)}"
        if len(got) != len(expected):
            return f"{what} has {len(got)} items, expected {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            msg = compare_value(g, e, what=f"{what}[{i}]", rtol=rtol, atol=atol)
            if msg:
                return msg
        return None
    if type(expected) in (set, frozenset):
        if type(got) not in (set, frozenset):
            return f"{what} should be a set, got {fmt_value(got)}"
        g = {as_int(v) for v in got}
        if None in g or g != set(expected):
            return f"{what}: expected {sorted(expected)}, got {sorted(got, key=repr)}"
        return None
    raise TypeError(f"no comparison for reference results of type {type(expected).__name__}")


# ---------------------------------------------------------------------------------------------
# Mutation


def _diff_snapshots(before: Any, after: Any, path: str) -> str | None:
    if isinstance(before, tuple) and before and before[0] == "tensor":
        _, rg_before, t_before = before
        if not (isinstance(after, tuple) and after and after[0] == "tensor"):
            return f"{path} was replaced"
        _, rg_after, t_after = after
        if rg_before != rg_after:
            return f"{path}.requires_grad changed from {rg_before} to {rg_after}"
        if t_before.shape != t_after.shape or t_before.dtype != t_after.dtype:
            return f"{path} changed shape or dtype"
        same = torch.equal(t_before, t_after) or bool(
            torch.all((t_before == t_after) | (torch.isnan(t_before) & torch.isnan(t_after)))
            if t_before.dtype.is_floating_point
            else False
        )
        return None if same else f"{path} was modified in place"
    if isinstance(before, tuple) and before and before[0] == "module":
        _, mode_before, state_before = before
        _, mode_after, state_after = after
        if mode_before != mode_after:
            return (
                f"{path} was switched to {'train' if mode_after else 'eval'} mode; "
                "leave the model's mode as you found it"
            )
        for key in state_before:
            if key not in state_after or not torch.equal(state_before[key], state_after[key]):
                return f"{path}'s parameter {key!r} was changed"
        return None
    if isinstance(before, Mapping):
        if not isinstance(after, Mapping) or list(before.keys()) != list(after.keys()):
            return f"{path} had keys added, removed or reordered"
        for k in before:
            msg = _diff_snapshots(before[k], after[k], f"{path}[{k!r}]")
            if msg:
                return msg
        return None
    if isinstance(before, (list, tuple)):
        if type(before) is not type(after) or len(before) != len(after):
            return f"{path} changed length"
        for i, (b, a) in enumerate(zip(before, after)):
            msg = _diff_snapshots(b, a, f"{path}[{i}]")
            if msg:
                return msg
        return None
    return None


def mutation_failure(case: Case, outcome: Outcome, arg_names: tuple[str, ...]) -> str | None:
    """A message naming the first input the call changed, else None."""
    fresh_args = snapshot(materialize(case.args))
    fresh_kwargs = snapshot(materialize(dict(case.kwargs)))
    for i, (before, after) in enumerate(zip(fresh_args, outcome.args_after)):
        label = arg_names[i] if i < len(arg_names) else f"argument {i}"
        msg = _diff_snapshots(before, after, label)
        if msg:
            return msg
    for key, before in fresh_kwargs.items():
        msg = _diff_snapshots(before, outcome.kwargs_after.get(key), key)
        if msg:
            return msg
    return None


# ---------------------------------------------------------------------------------------------
# Verdict factories


def fresh_inputs(case: Case) -> tuple[tuple, dict]:
    """The case's arguments and keyword arguments, built anew (as the function was given
    them, before it could change them)."""
    return materialize(case.args), materialize(dict(case.kwargs))


def with_hint(message: str, case: Case, hint: str) -> str:
    parts = [message]
    for h in (case.hint, hint):
        if h:
            parts.append(f"Hint: {h}")
    return "\n".join(parts)


def returned_then(
    name: str, judge: Callable[[Case, Outcome, tuple, dict], str | None], hint: str = ""
) -> Verdict:
    """A verdict: the call returned, then `judge(case, outcome, fresh args, fresh kwargs)`.

    The fresh args and kwargs are the case's inputs built anew (what the student's function
    was given, before it could change them), for property checks and for the reference.
    The hint is left off the stub's message, which says what to do already.
    """

    def verdict(case: Case, outcome: Outcome) -> str | None:
        failure = call_failure(outcome, name)
        if failure:
            stub = outcome.error_type == "NotImplementedError"
            return with_hint(failure, case, "" if stub else hint)
        msg = judge(case, outcome, *fresh_inputs(case))
        return with_hint(msg, case, hint) if msg else None

    return verdict


def matches_reference(
    name: str,
    reference: Callable[..., Any],
    *,
    hint: str = "",
    rtol: float | None = None,
    atol: float | None = None,
    compare: Callable[..., str | None] | None = None,
) -> Verdict:
    """The call returns what `reference` returns on freshly built copies of the same inputs."""

    def verdict(case: Case, outcome: Outcome) -> str | None:
        failure = call_failure(outcome, name)
        if failure:
            return with_hint(
                failure, case, "" if outcome.error_type == "NotImplementedError" else hint
            )
        args, kwargs = fresh_inputs(case)
        expected = reference(*args, **kwargs)
        if compare is not None:
            msg = compare(outcome.value, expected, what=f"`{name}` returned a value that")
        else:
            msg = compare_value(
                outcome.value, expected, what=f"the result of `{name}`", rtol=rtol, atol=atol
            )
        return with_hint(msg, case, hint) if msg else None

    return verdict


def raises_value_error(name: str, *, hint: str = "") -> Verdict:
    """The call raises ValueError (or a subclass) for invalid input."""

    def verdict(case: Case, outcome: Outcome) -> str | None:
        if outcome.raised("ValueError"):
            return None
        if outcome.status == "returned":
            msg = f"`{name}` returned {fmt_value(outcome.value)} instead of raising ValueError"
        elif outcome.status == "raised" and outcome.error_type == "NotImplementedError":
            msg = call_failure(outcome, name) or ""
            return msg
        elif outcome.status == "raised":
            msg = (
                f"`{name}` raised {outcome.error_type} ({outcome.error_message}); "
                "invalid arguments must raise ValueError with a message naming the argument"
            )
        else:
            msg = call_failure(outcome, name) or ""
        return with_hint(msg, case, hint)

    return verdict


def require_results(helper: str, name: str, results: Verdict | None) -> Verdict:
    """`results`, checked when a convention verdict is built: a verdict, never None.

    A convention part pays only when the function's results are right too (see the module
    docstring), so a convention helper without a verdict on the results is a mistake in the
    checks, reported when they are built (imported), not when a student is graded.
    """
    if results is None or not callable(results):
        raise TypeError(
            f"{helper}({name!r}, ...): `results` must be the verdict on what the call "
            f"returned (e.g. the reference comparison of the function's other parts), got "
            f"{results!r}: a convention alone earns nothing, or `return 0.0` would pass"
        )
    return results


def leaves_inputs_unchanged(
    name: str, arg_names: tuple[str, ...], *, results: Verdict, hint: str = ""
) -> Verdict:
    """The call returns, leaves every input as it was (values, requires_grad, mode), and what
    it returned is right by `results`.

    `results` (required) is the verdict on the same outcome's results, usually the reference
    comparison of the function's other parts: leaving the inputs alone earns nothing by
    itself. Inputs are checked first, so a function that changes them hears about that.
    """
    require_results("leaves_inputs_unchanged", name, results)

    def verdict(case: Case, outcome: Outcome) -> str | None:
        failure = call_failure(outcome, name)
        if failure:
            return with_hint(failure, case, "")
        msg = mutation_failure(case, outcome, arg_names)
        if msg:
            return with_hint(
                f"`{name}` changed its input: {msg}",
                case,
                hint
                or "work on copies (e.g. `t.clone()`, or build new tensors "
                "with out-of-place operations) instead of changing the inputs",
            )
        return results(case, outcome)

    return verdict


def key_orders_differ(args: tuple) -> bool:
    """Whether a case's parameter dicts (arguments, or dicts in a list argument) hold the
    same keys, not all in the same order."""
    dicts = [a for a in args if isinstance(a, Mapping)]
    dicts += [d for a in args if type(a) is list for d in a if isinstance(d, Mapping)]
    return (
        len(dicts) > 1
        and len({frozenset(d) for d in dicts}) == 1
        and len({tuple(d) for d in dicts}) > 1
    )


def reordered_keys_may_raise(inner: Verdict) -> Verdict:
    """`inner`, except that a ValueError is accepted when the case's dicts list the same keys
    in different orders.

    The spec calls for a ValueError when keys differ; the same keys in another order do not
    differ, and the reference pairs tensors by key. A strict implementation that also rejects
    another order is safe, so it is not penalised; a wrong value (tensors paired by position)
    is.
    """

    def verdict(case: Case, outcome: Outcome) -> str | None:
        if outcome.raised("ValueError") and key_orders_differ(case.args):
            return None
        return inner(case, outcome)

    return verdict


def all_of(*verdicts: Verdict) -> Verdict:
    """The first failing verdict's message, or None when all pass."""

    def verdict(case: Case, outcome: Outcome) -> str | None:
        for v in verdicts:
            msg = v(case, outcome)
            if msg:
                return msg
        return None

    return verdict
