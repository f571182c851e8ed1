"""Stage 2 of a hidden check: run the student's function on one case.

This is the only stage that touches student code. It resolves the case's recipes into live
inputs, calls the function under a time bound, catches whatever it raises, and records the
result and the state of the inputs afterwards as an :class:`Outcome`. It never imports
a reference solution and never judges anything.
"""

from __future__ import annotations

import contextlib
import copy
import io
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import torch

from .builders import PROBE_BUILDERS, get_builder
from .types import Build, Case, Outcome

# After the first alarm, keep re-raising at this interval in case the student's code
# swallows the exception with a bare `except`.
_REARM_SECONDS = 0.25


class CallTimeout(BaseException):
    """Raised inside the student's function when it runs past its time bound.

    A BaseException, so that `except Exception:` in student code does not swallow it.
    """


def materialize(obj: Any, probe: dict[str, Any] | None = None) -> Any:
    """Resolve every :class:`Build` in `obj` (recursively) and copy everything else.

    Tensors are cloned so that the caller's copy of the case is never touched.
    """
    if isinstance(obj, Build):
        params = {k: materialize(v, probe) for k, v in obj.params.items()}
        builder = get_builder(obj.kind)  # first, so that lazily loaded builders are known
        if obj.kind in PROBE_BUILDERS:
            params["probe"] = probe if probe is not None else {}
        return builder(**params)
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return type(obj)((k, materialize(v, probe)) for k, v in obj.items())
    if isinstance(obj, list):
        return [materialize(v, probe) for v in obj]
    if isinstance(obj, tuple):
        return tuple(materialize(v, probe) for v in obj)
    return copy.deepcopy(obj)


def snapshot(obj: Any) -> Any:
    """A plain-data copy of `obj` for comparing inputs before and after a call.

    Tensors become detached clones (with their `requires_grad` flag noted), modules become
    ("module", training flag, state dict), callables and generators become a tag.
    """
    if isinstance(obj, torch.nn.Module):
        state = {k: v.detach().clone() for k, v in obj.state_dict().items()}
        return ("module", obj.training, state)
    if isinstance(obj, torch.Tensor):
        return ("tensor", obj.requires_grad, obj.detach().clone())
    if isinstance(obj, torch.Generator):
        return ("generator",)
    if isinstance(obj, Mapping):
        return {k: snapshot(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [snapshot(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(snapshot(v) for v in obj)
    if callable(obj):
        return ("callable",)
    return copy.deepcopy(obj)


def _tensors_in(obj: Any) -> Iterator[torch.Tensor]:
    if isinstance(obj, torch.nn.Module):
        yield from obj.parameters()
        yield from obj.buffers()
    elif isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, Mapping):
        for v in obj.values():
            yield from _tensors_in(v)
    elif isinstance(obj, (list, tuple, set, frozenset)):
        for v in obj:
            yield from _tensors_in(v)


def _shares_memory(result: Any, inputs: Any) -> bool:
    ptrs = set()
    for t in _tensors_in(inputs):
        with contextlib.suppress(Exception):
            if t.numel():
                ptrs.add(t.untyped_storage().data_ptr())
    for t in _tensors_in(result):
        with contextlib.suppress(Exception):
            if t.numel() and t.untyped_storage().data_ptr() in ptrs:
                return True
    return False


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`CallTimeout` in the calling code after `seconds` of wall time.

    Uses SIGALRM, so it only works in the main thread on POSIX; elsewhere it does nothing
    (the sandboxed grader bounds time from outside as well).
    """
    usable = (
        seconds is not None
        and hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
    )
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise CallTimeout(f"no result after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, _REARM_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _exception_names(exc: BaseException) -> tuple[str, ...]:
    return tuple(cls.__name__ for cls in type(exc).__mro__)


def value_call(value: Any) -> Callable[[], Any]:
    """What the call stage runs for a graded value (a quiz letter): a function returning it."""

    def the_value() -> Any:
        return value

    return the_value


def run_case(fn: Callable[..., Any], case: Case, *, timeout: float | None = 10.0) -> Outcome:
    """Call `fn` on the inputs of `case`; never raises for anything the student's code does."""
    probe: dict[str, Any] = {}
    args = materialize(case.args, probe)
    kwargs = materialize(dict(case.kwargs), probe)
    after = materialize(case.post, probe) if case.post is not None else None
    rng_before = torch.random.get_rng_state()
    start = time.perf_counter()
    try:
        with time_limit(timeout), contextlib.redirect_stderr(io.StringIO()):
            # nbgrader fails a test cell that writes to stderr: what the student's code
            # prints there during a check is discarded.
            value = fn(*args, **kwargs)
    except CallTimeout:
        return Outcome(
            status="timeout",
            seconds=time.perf_counter() - start,
            error_message=f"no result after {timeout:g} s",
            probe=probe,
        )
    except (Exception, SystemExit, KeyboardInterrupt, GeneratorExit) as exc:
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (line {tb[-1].lineno} of {tb[-1].name})" if tb else ""
        return Outcome(
            status="raised",
            error_type=type(exc).__name__,
            error_bases=_exception_names(exc),
            error_message=f"{exc}{where}" if str(exc) else where.strip(),
            seconds=time.perf_counter() - start,
            args_after=snapshot(args),
            kwargs_after=snapshot(kwargs),
            probe=probe,
        )
    seconds = time.perf_counter() - start
    outcome = Outcome(
        status="returned",
        value=value,
        seconds=seconds,
        args_after=snapshot(args),
        kwargs_after=snapshot(kwargs),
        probe=probe,
        shares_input_memory=_shares_memory(value, (args, kwargs)),
        global_rng_changed=not torch.equal(rng_before, torch.random.get_rng_state()),
    )
    if after is not None:
        _run_after(after, outcome, args, kwargs, timeout)
    if outcome.status == "returned":
        for override in case.reruns:
            again = Case(case.label, case.args, {**case.kwargs, **override}, post=case.post)
            outcome.reruns.append(run_case(fn, again, timeout=timeout))
    return outcome


def _run_after(
    after: Callable[..., Any], outcome: Outcome, args: Any, kwargs: Any, timeout: float | None
) -> None:
    """Run a case's after-call probe; it may run student code (e.g. a custom backward).

    What it raises is recorded as `probe["post_error"]`; running past the time bound turns
    the outcome into a timeout.
    """
    start = time.perf_counter()
    try:
        with time_limit(timeout):
            after(outcome.value, args, kwargs)
    except CallTimeout:
        outcome.status = "timeout"
        outcome.error_message = f"no result after {timeout:g} s (after the call returned)"
    except (Exception, SystemExit, KeyboardInterrupt, GeneratorExit) as exc:
        outcome.probe["post_error"] = f"{type(exc).__name__}: {exc}"
    outcome.seconds += time.perf_counter() - start
