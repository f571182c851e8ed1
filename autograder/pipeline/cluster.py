"""Phase 1 of ``grade`` on a Dask cluster (``autograder grade --dask-scheduler / --dask-local``).

Dask is an optional extra (``pip install -c constraints.txt -e '.[dask]'``). The coordinator
(the ``grade`` command) keeps phase 2: the gradebook, the records and the course secret. Each
job travels with its files (:mod:`.portable`), so workers need not see the course dir; they
need the same pinned environment and the course's source at the same path. A task whose
worker dies is run again on another worker by Dask's scheduler (up to its
``distributed.scheduler.allowed-failures``); the coordinator records each submission once,
when its task finishes, or an error record when Dask gives up on it.

Run one task per worker process (``--nthreads 1``): each grading process keeps its own warm
kernel zygote and runs one sandbox at a time, as the process pool's workers do.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from autograder.errors import GradingError

INSTALL_HINT = "pip install -c constraints.txt -e '.[dask]'"


class DaskExecutor(cf.Executor):
    """A ``concurrent.futures`` executor on a Dask client, for :func:`.grade._run_jobs`:
    every task is impure (a regrade runs again), jobs ship their files, and `capacity` is
    the cluster's number of task slots when the executor was made."""

    ships_files = True

    def __init__(self, client: Any) -> None:
        self._client = client
        self._inner = client.get_executor(pure=False)
        self.capacity = max(1, sum(client.nthreads().values()))

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        return self._inner.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # Dask's executor cancels what is still running when it does not wait
        self._inner.shutdown(wait=wait and not cancel_futures)


@contextlib.contextmanager
def dask_executor_factory(
    *,
    scheduler: str | None = None,
    local_workers: int | None = None,
    out: Callable[[str], None] | None = print,
    connect_timeout: float = 30.0,
) -> Iterator[Callable[[int], cf.Executor]]:
    """Connect to the Dask scheduler at `scheduler` (``tcp://HOST:PORT``), or start a
    ``LocalCluster`` of `local_workers` worker processes (one thread each); yield a factory
    for :func:`autograder.pipeline.grade.main`'s ``executor_factory``; close what was
    opened on exit."""
    if (scheduler is None) == (local_workers is None):
        raise GradingError("give either a Dask scheduler address or a number of local workers")
    if local_workers is not None and local_workers < 1:
        raise GradingError(f"--dask-local needs at least 1 worker, got {local_workers}")
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise GradingError(f"Dask is not installed (an optional extra): {INSTALL_HINT}") from None
    with contextlib.ExitStack() as stack:
        if local_workers is not None:
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=local_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=40,  # logging.ERROR: the progress bar stays readable
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(scheduler, timeout=connect_timeout))
            except (OSError, TimeoutError) as exc:
                raise GradingError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        slots = sum(client.nthreads().values())
        if slots == 0:
            client.wait_for_workers(1, timeout=60)
            slots = sum(client.nthreads().values())
        if out:
            where = f"a local cluster of {local_workers}" if scheduler is None else scheduler
            out(f"grading on Dask ({where}): {len(client.nthreads())} workers, {slots} slots")

        def factory(_workers: int) -> cf.Executor:
            return DaskExecutor(client)

        def prepare_workers(spec_path: str, sandbox: bool, warm: bool) -> None:
            """Warm the workers up for the assignment at `spec_path` (as the process
            pool's initializer does): their zygotes start before their first task."""
            from .dask_warm import register

            register(client, spec_path, sandbox, warm)

        factory.ships_files = True  # type: ignore[attr-defined]
        factory.client = client  # type: ignore[attr-defined]
        factory.prepare_workers = prepare_workers  # type: ignore[attr-defined]
        yield factory
