"""Phase 1 of `autograder grade` on a Dask cluster (`--dask-local`, `--dask-scheduler`).

On a LocalCluster of 2 worker processes (one task each), example submissions of
test_pipeline_grade.py (correct, blank, broken, a dying kernel, one out of memory) are
regraded and must give the same records as the process pool, with the sandbox
working inside the Dask workers. Jobs carry their files (:mod:`autograder.pipeline.portable`),
as they would to workers on other machines. A worker killed in the middle of a run: its
submission runs again on another worker and every student gets exactly one record.

Skipped where the `dask` extra is not installed.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from autograder.errors import GradingError
from autograder.pipeline.records import SubmissionRecord, load_records
from tests.engine.test_pipeline_grade import (  # noqa: F401 (graded: a shared fixture)
    _once_per_run,
    _records,
    copy_course,
    grade_quietly,
    graded,
    rec,
)
from tests.engine.tiny_course import ASSIGNMENT

pytest.importorskip("distributed", reason="the dask extra is not installed")

from autograder.pipeline.cluster import dask_executor_factory

pytestmark = pytest.mark.slow

DASK_STUDENTS = [
    "correct",
    "blank",
    "broken_invalid_json",
    "broken_renamed_notebook",
    "broken_edited_test_cell",
    "broken_kernel_dies",
    "broken_out_of_memory",
]


def _grade(course: Path, students: list[str], factory: Any) -> list[SubmissionRecord]:
    # force: the copied records have the same inputs, and would be kept without executing
    records = grade_quietly(
        course, students=students, workers=2, executor_factory=factory, force=True
    )
    return records


@pytest.fixture(scope="module")
def dask_regraded(
    graded: dict[str, Any],  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, SubmissionRecord]:
    """A copy of the graded course regraded on a LocalCluster of 2 worker processes: the
    submissions that do not wait for a limit (the pool's tests cover the limits)."""

    def compute(folder: Path) -> dict[str, Any]:
        course = copy_course(graded, folder)
        with dask_executor_factory(local_workers=2, out=None) as factory:
            records = _grade(course, DASK_STUDENTS, factory)
        return {r.student: r.to_dict() for r in records}

    return _records(_once_per_run(tmp_path_factory, "dask-regraded", compute))


def test_dask_gives_the_records_of_the_process_pool(
    graded: dict[str, Any],  # noqa: F811
    dask_regraded: dict[str, SubmissionRecord],
) -> None:
    assert sorted(dask_regraded) == sorted(DASK_STUDENTS)
    for student in DASK_STUDENTS:
        assert dask_regraded[student].started != rec(graded, student).started  # executed
        assert dask_regraded[student].comparable() == rec(graded, student).comparable(), student


def test_the_sandbox_runs_inside_dask_workers(
    graded: dict[str, Any],  # noqa: F811
    dask_regraded: dict[str, SubmissionRecord],
) -> None:
    """The kernels of the Dask workers ran in the same sandbox as the pool's."""
    record = dask_regraded["correct"]
    assert record.isolation["filesystem"] == "private root (allowlist)", record.isolation
    pool = rec(graded, "correct").isolation
    for key in ("filesystem", "user", "memory_bound", "processes_bound"):
        assert record.isolation[key] == pool[key], key
    assert record.isolation["kernel"].split(":")[0] == pool["kernel"].split(":")[0]


def test_a_killed_worker_s_submission_runs_again_elsewhere(
    graded: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    """SIGKILL the worker process that holds a running submission: Dask runs it again on
    the other worker (or on the one its nanny restarts), and each student gets exactly one
    record, the same as the process pool's."""
    course = copy_course(graded, tmp_path)
    students = ["correct", "blank", "broken_deleted_test_cell", "broken_renamed_notebook"]
    killed: list[int] = []
    problems: list[str] = []
    with dask_executor_factory(local_workers=2, out=None) as factory:
        worker_pids = list(factory.client.run(os.getpid).values())
        stop = threading.Event()

        def kill_a_busy_worker() -> None:
            """Kill the first worker seen running a sandbox (a launcher or zygote client is
            its child only while it grades), half a second into that submission."""
            try:
                while not stop.is_set():
                    busy = [pid for pid in worker_pids if _runs_a_sandbox(pid)]
                    if busy:
                        time.sleep(0.5)
                        os.kill(busy[0], signal.SIGKILL)
                        killed.append(busy[0])
                        return
                    time.sleep(0.02)
            except Exception as exc:  # reported by the test, not lost in the thread
                problems.append(repr(exc))

        killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
        killer.start()
        try:
            records = _grade(course, students, factory)
        finally:
            stop.set()
            killer.join(10)
    assert not problems, problems
    assert killed, "no worker was busy to be killed"
    assert [r.student for r in records] == students
    for record in records:
        assert record.started != rec(graded, record.student).started  # executed again
        assert record.comparable() == rec(graded, record.student).comparable(), record.student
    saved = load_records(course, ASSIGNMENT)
    assert sorted(r.student for r in saved if r.student in students) == sorted(students)


def _runs_a_sandbox(pid: int) -> bool:
    """Whether process `pid` has a sandbox launcher or zygote client among its children."""
    children: list[str] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += (task / "children").read_text().split()
        except OSError:
            continue
    for child in children:
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue
        if b"_launcher.py" in cmdline or (b"_zygote.py" in cmdline and b"client" in cmdline):
            return True
    return False


def test_dask_workers_warm_up_before_their_first_task() -> None:
    """The factory's prepare_workers registers a worker plugin: every worker (those there
    now, and one that joins later) launches its zygote of warm kernels and loads the
    assignment's checks without being given a task."""
    from autograder.sandbox.isolation import probe_isolation
    from autograder.sandbox.zygote import WARM_MODES

    if probe_isolation().mode not in WARM_MODES:
        pytest.skip("this machine's sandbox cannot fork kernels from a zygote")
    spec = Path(__file__).resolve().parents[1] / "fixtures" / "tiny" / "source" / "tiny"

    def warmed() -> tuple[bool, bool]:
        import sys as worker_sys

        from autograder.sandbox import zygote

        registry = worker_sys.modules.get("autograder.checks.registry")
        loaded = getattr(registry, "loaded", None)  # the module may be half imported yet
        loaded = loaded is not None and "tiny" in loaded()
        return bool(zygote._SHARED), loaded

    with dask_executor_factory(local_workers=1, out=None) as factory:
        client = factory.client
        assert list(client.run(warmed).values()) == [(False, False)]
        factory.prepare_workers(str(spec / "assignment.toml"), True, True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            states = list(client.run(warmed).values())
            if states == [(True, True)]:
                break
            time.sleep(0.2)
        assert states == [(True, True)], states
        client.cluster.scale(2)  # a worker that joins later warms up as well
        client.wait_for_workers(2, timeout=60)
        while time.monotonic() < deadline + 60:
            states = list(client.run(warmed).values())
            if states == [(True, True)] * 2:
                break
            time.sleep(0.2)
        assert states == [(True, True)] * 2, states


def test_bad_cluster_arguments_are_refused() -> None:
    both = dask_executor_factory(scheduler="tcp://127.0.0.1:1", local_workers=2)
    with pytest.raises(GradingError, match="either"), both:
        pass
    nowhere = dask_executor_factory(scheduler="tcp://127.0.0.1:9", out=None, connect_timeout=2)
    with pytest.raises(GradingError, match="cannot reach"), nowhere:
        pass
