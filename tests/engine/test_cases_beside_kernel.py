"""The hidden checks' cases are made in a thread while the sandboxed kernel starts
(:func:`autograder.pipeline.sandboxed.execute_notebook_sandboxed`), and the overall guard of
:func:`autograder.pipeline.runner.run_notebook` does not count the time the runner waited
for them.

- the cases are made *while* the kernel starts: the planning thread waits for the kernel's
  start to begin, which only happens if both run at once;
- no cell runs before the probe cells are swapped in: the verdicts are those of the
  sequential order (every hidden cell judged, a wrong answer loses its part);
- a failure to make the cases is still the grader's error, raised by
  ``execute_notebook_sandboxed``, and the kernel started beside it is stopped;
- run_notebook's guard: time in ``before_cells`` is not the notebook's.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from autograder.pipeline import runner as runner_mod
from autograder.pipeline import sandboxed
from autograder.pipeline.limits import Limits
from tests.engine.test_probe_batches import CORRECT, PARTS, TINY_SPEC, WRONG, _notebook, _verdicts

needs_sandbox = pytest.mark.skipif(
    not sandboxed.sandbox_available(), reason="needs a sandbox with a private file system"
)


def _run(answer: str, tmp_path: Path, name: str):
    scratch = tmp_path / name
    (scratch / ".tmp").mkdir(parents=True)
    return sandboxed.execute_notebook_sandboxed(
        _notebook(answer), scratch, Limits(wall_seconds=60), spec=str(TINY_SPEC), case_seed=3
    )


@needs_sandbox
def test_cases_are_made_while_the_kernel_starts(tmp_path, monkeypatch):
    kernel_starting = threading.Event()
    seen: dict[str, object] = {}
    plan, start = sandboxed.plan_probes, sandboxed.SandboxRunner.start_kernel

    def plan_after_kernel_start(*args, **kwargs):
        # deadlocks (and fails after 30 s) if the cases were made before the kernel started
        seen["overlapped"] = kernel_starting.wait(timeout=30)
        seen["thread"] = threading.current_thread().name
        return plan(*args, **kwargs)

    async def start_kernel(self):
        kernel_starting.set()
        await start(self)

    monkeypatch.setattr(sandboxed, "plan_probes", plan_after_kernel_start)
    monkeypatch.setattr(sandboxed.SandboxRunner, "start_kernel", start_kernel)
    run = _run(WRONG, tmp_path, "overlap")
    assert seen["overlapped"] is True
    assert seen["thread"] != threading.main_thread().name
    assert run.status == "graded", run.reasons
    verdicts = _verdicts(run)
    assert verdicts["random"] and verdicts["no_mutation"], verdicts  # wrong, and mutates
    assert {"cases", "cases_wait", "kernel_start"} <= set(run.phases)
    # the trusted sources are back in place of the probe cells
    assert all("check_function" in cell.source for cell in run.nb.cells[1:])


@needs_sandbox
def test_slow_cases_do_not_count_against_the_notebook(tmp_path, monkeypatch):
    plan = sandboxed.plan_probes

    def slow_plan(*args, **kwargs):
        time.sleep(6.0)
        return plan(*args, **kwargs)

    monkeypatch.setattr(sandboxed, "plan_probes", slow_plan)
    # the overall guard (5 s: room for the kernel's start and the four cells on a busy
    # machine) would fire during the 6 s wait if the wait for the cases counted
    monkeypatch.setattr(sandboxed, "overall_timeout", lambda limits: 5.0)
    run = _run(CORRECT, tmp_path, "slow")
    assert run.status == "graded", run.reasons
    assert _verdicts(run) == {p: [] for p in PARTS}
    assert run.phases["cases_wait"] > 0.5


@needs_sandbox
def test_a_failure_to_make_the_cases_is_the_graders_and_stops_the_kernel(tmp_path, monkeypatch):
    runners: list[sandboxed.SandboxRunner] = []
    killed: list[sandboxed.SandboxRunner] = []
    start, kill = sandboxed.SandboxRunner.start_kernel, sandboxed.SandboxRunner.kill

    async def start_kernel(self):
        runners.append(self)
        await start(self)

    def spy_kill(self):
        killed.append(self)
        kill(self)

    def broken_plan(*args, **kwargs):
        raise RuntimeError("the reference crashed")

    monkeypatch.setattr(sandboxed, "plan_probes", broken_plan)
    monkeypatch.setattr(sandboxed.SandboxRunner, "start_kernel", start_kernel)
    monkeypatch.setattr(sandboxed.SandboxRunner, "kill", spy_kill)
    with pytest.raises(RuntimeError, match="the reference crashed"):
        _run(CORRECT, tmp_path, "broken")
    assert len(runners) == 1 and killed == runners  # the kernel beside it was stopped
    assert not runners[0].km.has_kernel


class _FakeRunner:
    """Just what run_notebook uses of a NotebookRunner."""

    def __init__(self, waiting: float, working: float) -> None:
        self.waiting, self.working = waiting, working
        self.waited_before, self.waiting_since = 0.0, None
        self.killed = False

    waited = runner_mod.NotebookRunner.waited

    async def run(self):
        self.waiting_since = time.monotonic()
        await asyncio.sleep(self.waiting)
        self.waited_before, self.waiting_since = self.waited, None
        await asyncio.sleep(self.working)
        return "finished"

    def kill(self) -> None:
        self.killed = True

    def finish(self, status: str, reason: str) -> str:
        return status


def test_run_notebook_does_not_count_the_wait_before_the_cells():
    fake = _FakeRunner(waiting=1.0, working=0.2)
    assert runner_mod.run_notebook(fake, timeout=0.6) == "finished"
    assert not fake.killed


def test_run_notebook_still_stops_a_notebook_that_runs_too_long():
    fake = _FakeRunner(waiting=0.3, working=5.0)
    t0 = time.monotonic()
    assert runner_mod.run_notebook(fake, timeout=0.6) == "timeout"
    assert fake.killed
    assert time.monotonic() - t0 < 3.0  # 0.6 s + the 0.3 s wait, not the 5 s of work
