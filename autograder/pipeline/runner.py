"""Run one notebook in a fresh kernel under limits: the runner base and the plain executor.

:class:`NotebookRunner` owns one execution: the kernel manager, the nbclient that runs the
cells, the per-run cgroups, the wall-time and output limits, and the bookkeeping that turns a
stopped or dead kernel into error outputs (``CellTimeoutError``, ``KernelDied``,
``OutputLimitExceeded``, and ``CellNotRun`` for every later graded cell). How the kernel is
started is the one thing executors differ in; it and the handling of each output are hooks
(the model is nbclient's ``on_cell_*`` traits):

- :meth:`NotebookRunner.start_kernel` (required): create ``self.km`` and start the kernel;
- :meth:`NotebookRunner.on_output`: called for every output message of a cell, with
  nbclient's own handler as `default`; the base applies the per-cell output limit.

:class:`PlainRunner` starts the kernel through the limits launcher (:mod:`.limits`);
:func:`execute_notebook` runs a notebook with it. The sandboxed executor
(:mod:`.sandboxed`) subclasses :class:`NotebookRunner` with a kernel inside the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode
from traitlets import Any as TAny
from traitlets import List as TList

from autograder.checks.seeding import CASE_SEED_ENV
from autograder.content.builder import role_of
from autograder.spec import ASSIGNMENT_ENV

from .limits import KernelCgroups, Limits, detect_isolation, launcher_prefix
from .normalize import grade_id_of
from .warm import KERNEL_ENV

# Error names written into cells the grader stopped or never ran.
NOT_RUN_ENAME = "CellNotRun"
TIMEOUT_ENAME = "CellTimeoutError"
KERNEL_DIED_ENAME = "KernelDied"
OUTPUT_LIMIT_ENAME = "OutputLimitExceeded"
#: Errors the runner writes into cells it stopped or never ran.
RUNNER_ENAMES = (NOT_RUN_ENAME, TIMEOUT_ENAME, KERNEL_DIED_ENAME, OUTPUT_LIMIT_ENAME)
# Extra wall time allowed around a notebook (kernel shutdown, bookkeeping) before the worker
# abandons it.
OVERALL_SLACK_SECONDS = 30.0


@dataclass
class ExecutedNotebook:
    """What an executor returns.

    ``status`` is "graded" (every cell ran), "timeout", "kernel_died", "memory_limit",
    "output_limit" or "error" (the kernel could not start); ``reasons`` say where and why.
    """

    nb: NotebookNode
    status: str
    reasons: list[str]
    seconds: float
    peak_memory_bytes: int | None = None
    isolation: dict[str, Any] | None = None
    phases: dict[str, float] = field(default_factory=dict)
    """Seconds by phase: ``kernel_start``, ``cells:<role>`` (code cells by their role),
    and what the caller adds (``cases``, ``verdicts``)."""


class RunCgroups(Protocol):
    """What a runner needs of the cgroups that bound its kernel."""

    def oom_killed(self) -> bool: ...

    def peak_memory(self) -> int | None: ...

    def kill_all(self) -> None: ...


OutputHandler = Callable[[list, dict, "str | None", int], Any]


class HookedClient(NotebookClient):
    """nbclient's NotebookClient with every output routed through `output_hook`:
    ``output_hook(default, outs, msg, display_id, cell_index)``, where `default` is
    nbclient's own handler."""

    output_hook = TAny(None, allow_none=True, help="callable deciding what to do with an output")

    def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
        default = super().output
        if self.output_hook is None:
            return default(outs, msg, display_id, cell_index)
        return self.output_hook(default, outs, msg, display_id, cell_index)


class LimitedKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel behind a launch prefix (the limits launcher)."""

    launch_prefix = TList(help="argv put before the kernel command")

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
        return [*self.launch_prefix, *cmd, *(extra_arguments or [])]


SKIPPED_ROLES = frozenset({"demo"})
"""Roles of the cells that grading does not run: demonstrations carry no points."""


def cell_role(cell: NotebookNode) -> str:
    """A code cell's role for timing: its built role, else what nbgrader says it is."""
    role = role_of(cell)
    if role:
        return role
    nbg = cell.get("metadata", {}).get("nbgrader", {})
    if nbg.get("solution"):
        return "answer"
    if nbg.get("grade"):
        return "test"
    return "other"


def _scored(cell: NotebookNode) -> bool:
    """An answer or a graded cell: nbgrader's `solution` or `grade` (a locked cell is
    neither: its source is the release's, restored from the gradebook)."""
    nbg = cell.get("metadata", {}).get("nbgrader", {})
    return bool(nbg.get("grade") or nbg.get("solution"))


def skipped_cells(nb: NotebookNode, template: NotebookNode) -> list[int]:
    """The indices of `nb`'s code cells that grade-only execution leaves out: a cell whose id
    is that of a demonstration cell of the trusted `template` (the release notebook), and
    that is no answer or graded cell. The roles come from the template, never from the
    submission, so no answer, set-up or test cell can be skipped by editing its metadata."""
    demo_ids = {
        c.get("id")
        for c in template.cells
        if c.get("cell_type") == "code" and role_of(c) in SKIPPED_ROLES and not _scored(c)
    }
    demo_ids.discard(None)
    return [
        i
        for i, c in enumerate(nb.cells)
        if c.get("cell_type") == "code" and c.get("id") in demo_ids and not _scored(c)
    ]


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output as the runner writes it into a stopped or skipped cell."""
    return nbformat.v4.new_output(
        "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


def message_size(msg: dict) -> int:
    """The size of an output message, as the output limits count it."""
    content = msg.get("content", {})
    size = 0
    for key in ("text", "evalue"):
        value = content.get(key)
        if isinstance(value, str):
            size += len(value)
    data = content.get("data")
    if isinstance(data, dict):
        size += sum(len(v) if isinstance(v, str) else len(str(v)) for v in data.values())
    tb = content.get("traceback")
    if isinstance(tb, list):
        size += sum(len(t) for t in tb if isinstance(t, str))
    return size


def fmt_bytes(value: int | None) -> str:
    if value is None:
        return "no"
    return f"{value / 2**20:.0f} MiB"


class NotebookRunner:
    """One notebook execution: kernel manager, client, cgroups, bookkeeping.

    Subclasses implement :meth:`start_kernel` and may extend :meth:`on_output`.
    """

    def __init__(
        self,
        nb: NotebookNode,
        scratch: Path,
        limits: Limits,
        isolation: dict[str, object],
        work: Path,
        *,
        skip: Iterable[int] = (),
    ) -> None:
        self.nb = nb
        self.skip = frozenset(skip)
        self.scratch = scratch
        self.limits = limits
        self.isolation = isolation
        self.work = work
        self.reasons: list[str] = []
        self.t0 = time.monotonic()
        self.cgroups: RunCgroups | None = None
        self.km: Any = None
        self.client: Any = None
        self.output_exceeded_cell: int | None = None
        self.current_cell: int | None = None
        self.stopped_at: int | None = None
        self.peak: int | None = None
        self.cell_bytes: dict[int, int] = {}
        self.phases: dict[str, float] = {}
        # the seconds before_cells waited (so far): the grader's time, not the notebook's
        self.waited_before = 0.0
        self.waiting_since: float | None = None

    # -- hooks
    async def start_kernel(self) -> None:
        """Create ``self.km`` and start its kernel with cwd ``self.scratch``."""
        raise NotImplementedError

    @property
    def waited(self) -> float:
        """Seconds spent in :meth:`before_cells` so far."""
        since = self.waiting_since
        return self.waited_before + (time.monotonic() - since if since is not None else 0.0)

    async def before_cells(self) -> None:
        """Runs once the kernel is ready, before the first cell and before the wall-time
        limit starts (a subclass waits here for work begun beside the kernel's start)."""

    def own_cgroups(self) -> bool:
        """Whether the runner itself bounds the kernel with per-run cgroups (the plain
        runner does where the isolation allows; a sandbox brings its own)."""
        return False

    def on_output(
        self, default: OutputHandler, outs: list, msg: dict, display_id: str | None, cell_index: int
    ) -> Any:
        """Handle one output message: count it against the cell's output limit; past the
        limit the kernel is stopped and the output dropped."""
        if self.output_exceeded_cell is not None:
            return None
        used = self.cell_bytes.get(cell_index, 0) + message_size(msg)
        self.cell_bytes[cell_index] = used
        if used > self.limits.output_bytes:
            self.output_exceeded_cell = cell_index
            self.kill()
            return None
        return default(outs, msg, display_id, cell_index)

    # -- lifecycle
    async def run(self) -> ExecutedNotebook:
        status, reason = "graded", ""
        with contextlib.ExitStack() as stack:
            if self.own_cgroups():
                try:
                    self.cgroups = stack.enter_context(KernelCgroups(self.limits, self.isolation))
                except OSError as exc:
                    self.cgroups = None
                    self.reasons.append(f"cgroup limits unavailable ({exc}): rlimits only")
            try:
                started = time.monotonic()
                await self.start_kernel()
                await asyncio.wait_for(self.connect(), self.limits.startup_seconds)
                self.phases["kernel_start"] = time.monotonic() - started
            except Exception as exc:
                self.kill()
                await self.cleanup()
                reason = f"the kernel did not start: {type(exc).__name__}: {exc}"
                if self.cgroups is not None and self.cgroups.oom_killed():
                    return self.finish("memory_limit", reason + " (memory limit)")
                return self.finish("error", reason)
            try:
                self.waiting_since = time.monotonic()
                try:
                    await self.before_cells()
                finally:
                    self.waited_before, self.waiting_since = self.waited, None
            except Exception as exc:
                self.kill()
                await self.cleanup()
                return self.finish("error", f"grading could not start: {type(exc).__name__}: {exc}")
            deadline = time.monotonic() + self.limits.wall_seconds
            self.client.timeout_func = lambda cell: max(1, math.ceil(deadline - time.monotonic()))
            try:
                status, reason = await self.run_cells(deadline)
            except CellTimeoutError:
                status = "timeout"
                reason = (
                    f"the wall-time limit ({self.limits.wall_seconds:g} s) was reached "
                    f"in cell {self.label(self.current_cell)}"
                )
                self.mark_running(TIMEOUT_ENAME, reason)
            except DeadKernelError:
                status, reason = self.death_cause()
                self.mark_running(
                    OUTPUT_LIMIT_ENAME if status == "output_limit" else KERNEL_DIED_ENAME, reason
                )
            finally:
                if status != "graded":
                    self.kill()
                if self.cgroups is not None:
                    self.peak = self.cgroups.peak_memory()
                await self.cleanup()
        return self.finish(status, reason)

    async def run_cells(self, deadline: float) -> tuple[str, str]:
        """Run every code cell in order but those in `skip` (a :meth:`batch` of cells as one
        execution); ("graded", "") or why it stopped before a cell."""
        order = [
            i for i, c in enumerate(self.nb.cells) if c.cell_type == "code" and i not in self.skip
        ]
        pos = 0
        while pos < len(order):
            batch = self.batch(order, pos)
            index = batch[0]
            pos += len(batch)
            if time.monotonic() >= deadline:
                self.current_cell = index - 1
                return "timeout", (
                    f"the wall-time limit ({self.limits.wall_seconds:g} s) was "
                    f"reached before cell {self.label(index)}"
                )
            self.current_cell = index
            cell = self.nb.cells[index]
            started = time.monotonic()
            try:
                if len(batch) == 1:
                    await self.client.async_execute_cell(
                        cell, index, execution_count=self.client.code_cells_executed + 1
                    )
                else:
                    await self.run_batch(batch)
            finally:
                key = f"cells:{cell_role(cell)}"
                self.phases[key] = self.phases.get(key, 0.0) + time.monotonic() - started
            if self.output_exceeded_cell is not None:
                raise DeadKernelError("output limit")
            for i in batch:
                self.check_memory_error(self.nb.cells[i], i)
        return "graded", ""

    def batch(self, order: list[int], pos: int) -> list[int]:
        """The code cells that run as one execution from ``order[pos]`` on (consecutive in
        `order`, the cells to run); by default each cell on its own. A subclass that batches
        says how in :meth:`batch_source` and :meth:`split_batch`."""
        return [order[pos]]

    def batch_source(self, batch: list[int]) -> str:
        """The code that runs the cells of `batch`, in order, as one execution."""
        raise NotImplementedError

    def split_batch(self, batch: list[int], outputs: list) -> int | None:
        """Give each cell of `batch` its share of the batch's `outputs`; return the index of
        the first cell that did not finish (None: every one did)."""
        raise NotImplementedError

    async def late_outputs(self, batch: list[int], joint: NotebookNode) -> None:
        """After a batch stopped midway: add to `joint` what its cells sent before and
        nbclient had not read yet (nbclient stops reading when the kernel dies)."""

    async def run_batch(self, batch: list[int]) -> None:
        """Run the cells of `batch` as one execution. Each cell gets its own outputs; when
        the kernel stops midway (time, memory, death), the cell it stopped in is the current
        one, the cells before it keep what they finished, the ones after are not run."""
        first = self.nb.cells[batch[0]]
        joint = copy.deepcopy(first)
        joint.source = self.batch_source(batch)
        joint.outputs = []
        self.nb.cells[batch[0]] = joint  # nbclient finds a display's cell by its index
        try:
            await self.client.async_execute_cell(
                joint, batch[0], execution_count=self.client.code_cells_executed + 1
            )
        except BaseException as exc:
            if isinstance(exc, (CellTimeoutError, DeadKernelError)):
                # stopped first: what the cells finished before the limit is all they get
                self.kill()
                with contextlib.suppress(Exception):
                    await self.late_outputs(batch, joint)
            unfinished = self._split(batch, first, joint)
            self.current_cell = batch[-1] if unfinished is None else unfinished
            raise
        self._split(batch, first, joint)

    def _split(self, batch: list[int], first: NotebookNode, joint: NotebookNode) -> int | None:
        self.nb.cells[batch[0]] = first
        with contextlib.suppress(Exception):  # later displays must not update these outputs
            self.client.clear_display_id_mapping(batch[0])
        unfinished = self.split_batch(batch, list(joint.get("outputs", [])))
        for i in batch:
            self.nb.cells[i].execution_count = joint.get("execution_count")
        return unfinished

    def finish(self, status: str, reason: str) -> ExecutedNotebook:
        if reason:
            self.reasons.append(reason)
        if status != "graded":
            self.mark_not_run(reason)
        if status == "graded" and any("MemoryError" in r for r in self.reasons):
            status = "memory_limit"
        return ExecutedNotebook(
            self.nb,
            status,
            self.reasons,
            time.monotonic() - self.t0,
            self.peak,
            phases={k: round(v, 3) for k, v in self.phases.items()},
        )

    async def connect(self) -> None:
        """Open the client's channels to the started kernel and wait until it answers."""
        self.client.kc = self.km.client()
        kc = self.client.kc
        kc.start_channels(hb=False)  # nbclient never asks the heartbeat
        reply = await wait_until_ready(kc, self.limits.startup_seconds)
        if "language_info" in reply.get("content", {}):
            self.nb.metadata["language_info"] = reply["content"]["language_info"]

    async def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            if self.client is not None and self.client.kc is not None:
                self.client.kc.stop_channels()
        with contextlib.suppress(Exception):
            if self.km is not None and self.km.has_kernel:
                await self.km.shutdown_kernel(now=True)
        with contextlib.suppress(Exception):
            if self.km is not None:
                await self.km.cleanup_resources()

    def notebook_client(self) -> HookedClient:
        """The nbclient that runs the cells on ``self.km``: every output goes through
        :meth:`on_output` (output limits), errors do not stop the run, no cell is skipped."""
        self.cell_bytes = {}
        return HookedClient(
            self.nb,
            km=self.km,
            output_hook=self.on_output,
            timeout=int(self.limits.wall_seconds) + 1,
            startup_timeout=int(self.limits.startup_seconds),
            allow_errors=True,
            interrupt_on_timeout=False,
            raise_on_iopub_timeout=False,
            iopub_timeout=4,
            shutdown_kernel="immediate",
            skip_cells_with_tag=f"never-skip-{uuid.uuid4().hex}",
            record_timing=False,
            kernel_name="python3",
            resources={"metadata": {"path": str(self.scratch)}},
        )

    def kill(self) -> None:
        """SIGKILL the kernel's process group and every process of its cgroups."""
        provisioner = getattr(self.km, "provisioner", None) if self.km is not None else None
        pgid = getattr(provisioner, "pgid", None)
        if pgid:
            with contextlib.suppress(OSError):
                os.killpg(pgid, signal.SIGKILL)
        if self.cgroups is not None:
            self.cgroups.kill_all()

    # -- bookkeeping
    def death_cause(self) -> tuple[str, str]:
        label = self.label(self.current_cell)
        if self.output_exceeded_cell is not None:
            return "output_limit", (
                f"cell {label} printed more than the output limit "
                f"({self.limits.output_bytes} bytes): the kernel was stopped"
            )
        if self.cgroups is not None and self.cgroups.oom_killed():
            return "memory_limit", (
                f"the memory limit ({fmt_bytes(self.limits.memory_bytes)}) was exceeded in "
                f"cell {label}: the kernel was killed"
            )
        code = None
        provisioner = getattr(self.km, "provisioner", None)
        process = getattr(provisioner, "process", None)
        if process is not None:
            with contextlib.suppress(Exception):
                code = process.poll()
        detail = ""
        if code is not None and code < 0:
            try:
                detail = f" (signal {signal.Signals(-code).name})"
            except ValueError:
                detail = f" (signal {-code})"
            if -code == signal.SIGXCPU:
                return "kernel_died", (
                    f"the CPU-time limit ({self.limits.effective_cpu_seconds} s) was reached "
                    f"in cell {label}: the kernel was killed{detail}"
                )
        elif code is not None:
            detail = f" (exit code {code})"
        return "kernel_died", f"the kernel died in cell {label}{detail}"

    def check_memory_error(self, cell: NotebookNode, index: int) -> None:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and (
                out.get("ename") == "MemoryError"
                or "can't allocate memory" in str(out.get("evalue", ""))
            ):
                self.reasons.append(
                    f"cell {self.label(index)} ran out of memory (MemoryError at the "
                    f"{fmt_bytes(self.limits.memory_bytes)} limit)"
                )

    def label(self, index: int | None) -> str:
        if index is None or index < 0 or index >= len(self.nb.cells):
            return "?"
        gid = grade_id_of(self.nb.cells[index])
        return f"{index} ('{gid}')" if gid else str(index)

    def mark_running(self, ename: str, reason: str) -> None:
        index = self.current_cell
        if index is None or not 0 <= index < len(self.nb.cells):
            return
        cell = self.nb.cells[index]
        if cell.cell_type == "code":
            cell.setdefault("outputs", []).append(error_output(ename, reason))
        self.stopped_at = index

    def mark_not_run(self, reason: str) -> None:
        start = self.stopped_at if self.stopped_at is not None else self.current_cell
        start = -1 if start is None else start
        for index, cell in enumerate(self.nb.cells):
            if index <= start or cell.cell_type != "code":
                continue
            cell.outputs = []
            cell.execution_count = None
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                cell.outputs.append(
                    error_output(
                        NOT_RUN_ENAME,
                        f"this cell was not run: {reason}" if reason else "this cell was not run",
                    )
                )
        self.truncate_outputs()

    def truncate_outputs(self) -> None:
        """Keep at most `output_bytes` of text per output (a killed cell keeps what came)."""
        limit = self.limits.output_bytes
        for cell in self.nb.cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and len(out.get("text", "")) > limit:
                    out["text"] = out["text"][:limit] + "\n[output truncated]\n"


async def wait_until_ready(kc: Any, timeout: float) -> dict[str, Any]:
    """Wait until the kernel of client `kc` answers on its shell channel and this client
    hears its IOPub channel (else the first cell's outputs could be lost); return the
    kernel_info reply.

    jupyter_client's ``wait_for_ready`` does the same, then waits for 0.2 s of silence on
    IOPub: a fifth of a warm kernel's start. Here the IOPub channel counts as heard once it
    brings the kernel's welcome to this subscription or the status of one of these
    requests (older kernels send no welcome); what else it holds is left, and nbclient
    passes over messages that answer no request of its own.
    """
    deadline = time.monotonic() + timeout
    asked: set[str] = set()
    reply: dict[str, Any] | None = None
    heard = False
    while True:
        asked.add(kc.kernel_info())
        wait_until = min(deadline, time.monotonic() + 1.0)
        while reply is None and time.monotonic() < wait_until:
            try:
                msg = await kc.shell_channel.get_msg(
                    timeout=max(0.01, wait_until - time.monotonic())
                )
            except Exception:  # queue.Empty
                break
            if msg.get("parent_header", {}).get("msg_id") in asked:
                reply = msg
        listen_until = min(deadline, time.monotonic() + (0.25 if reply is not None else 0.0))
        while reply is not None and not heard and time.monotonic() < listen_until:
            try:
                msg = await kc.iopub_channel.get_msg(
                    timeout=max(0.01, listen_until - time.monotonic())
                )
            except Exception:  # queue.Empty: ask again, the subscription may be late
                break
            heard = msg.get("msg_type") == "iopub_welcome" or (
                msg.get("parent_header", {}).get("msg_id") in asked
            )
        if reply is not None and heard:
            return reply
        if not await kc.is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() >= deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


def run_notebook(runner: NotebookRunner, *, timeout: float) -> ExecutedNotebook:
    """Run `runner` to completion in a fresh event loop (in a helper thread if this thread
    already runs one), abandoning it after `timeout` seconds, not counting the time its
    :meth:`~NotebookRunner.before_cells` waited (the grader's own work)."""

    async def guarded() -> ExecutedNotebook:
        loop = asyncio.get_running_loop()
        started = loop.time()
        task = asyncio.ensure_future(runner.run())
        while True:
            remaining = started + timeout + runner.waited - loop.time()
            if remaining > 0:
                done, _ = await asyncio.wait({task}, timeout=remaining)
                if done:
                    return task.result()
                continue  # before_cells may have moved the deadline: look again
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            runner.kill()
            return runner.finish("timeout", f"the notebook did not finish within {timeout:.0f} s")

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(guarded())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(guarded())
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def overall_timeout(limits: Limits) -> float:
    """How long a whole run may take before the worker abandons it."""
    return limits.startup_seconds + limits.wall_seconds + OVERALL_SLACK_SECONDS


# ---- the plain executor -----------------------------------------------------------------------


class PlainRunner(NotebookRunner):
    """A kernel started through the limits launcher (:func:`.limits.launcher_prefix`): per-run
    cgroups where writable, rlimits, a network namespace where possible, the grading user."""

    def __init__(self, *args: Any, extra_env: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extra_env = dict(extra_env or {})
        self.ipc_dir: Path | None = None

    def own_cgroups(self) -> bool:
        return str(self.isolation.get("memory", "")).startswith("cgroup") or str(
            self.isolation.get("processes", "")
        ).startswith("cgroup")

    async def start_kernel(self) -> None:
        prefix = launcher_prefix(self.limits, self.isolation, self.cgroups)
        netns = (
            "--" in prefix
            and self.limits.isolate_network
            and self.isolation.get("network") == "netns"
        )
        km_kwargs: dict[str, Any] = {}
        if netns:
            # the kernel has no network: talk to it over Unix sockets in a private dir
            self.ipc_dir = Path(tempfile.mkdtemp(prefix="agk-"))
            km_kwargs.update(transport="ipc", ip=str(self.ipc_dir / "k"))
        self.km = LimitedKernelManager(
            kernel_name="python3",
            launch_prefix=prefix,
            connection_file=str(self.work / f"kernel-{uuid.uuid4().hex[:8]}.json"),
            **km_kwargs,
        )
        self.client = self.notebook_client()
        await self.km.start_kernel(
            extra_arguments=["--HistoryManager.enabled=False", "--quiet"],
            env={**kernel_env(self.scratch), **self.extra_env},
            cwd=str(self.scratch),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )

    async def cleanup(self) -> None:
        await super().cleanup()
        if self.ipc_dir is not None:
            shutil.rmtree(self.ipc_dir, ignore_errors=True)


def kernel_env(scratch: Path) -> dict[str, str]:
    """A small environment for the kernel: no inherited secrets, one thread, scratch home."""
    env = {
        "PATH": os.pathsep.join(
            [os.path.dirname(sys.executable), os.environ.get("PATH", "/usr/bin:/bin")]
        ),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": str(scratch),
        "TMPDIR": str(scratch / ".tmp"),
        "IPYTHONDIR": str(scratch / ".tmp" / "ipython"),
        "MPLCONFIGDIR": str(scratch / ".tmp" / "matplotlib"),
        "JUPYTER_PLATFORM_DIRS": "1",
        **KERNEL_ENV,
    }
    for key in ("VIRTUAL_ENV", "PYTHONPATH"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def execute_notebook(
    nb: NotebookNode,
    scratch_dir: str | Path,
    limits: Limits,
    *,
    isolation: dict[str, object] | None = None,
    work_dir: str | Path | None = None,
    spec: str | os.PathLike[str] | None = None,
    case_seed: int | None = None,
    skip: Iterable[int] = (),
) -> ExecutedNotebook:
    """Execute a copy of `nb` in a fresh kernel under `limits`, cwd `scratch_dir`.

    Every code cell runs in order with errors allowed. At the wall limit, the output limit
    or a kernel death the kernel's processes are killed, the running cell gets an error
    output with the reason, and every later graded cell an error output ``CellNotRun``.
    Hidden test cells run their checks in the kernel itself: `spec` (a spec file) tells
    them which assignment's (the environment variable ``AUTOGRADER_ASSIGNMENT``), and
    `case_seed` which cases to make (``AUTOGRADER_CASE_SEED``; None: the fixed cases).
    The code cells whose indices are in `skip` are not run (grade-only execution).
    """
    if isolation is None:
        isolation = detect_isolation(use_cgroups=limits.use_cgroups)
    own_work = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="ag-exec-")) if own_work else Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    extra_env = {ASSIGNMENT_ENV: os.fspath(spec)} if spec is not None else {}
    # always set: a seed in the grader's own environment must not leak into a kernel
    extra_env[CASE_SEED_ENV] = "" if case_seed is None else str(case_seed)
    runner = PlainRunner(
        copy.deepcopy(nb),
        Path(scratch_dir),
        limits,
        isolation,
        work,
        extra_env=extra_env,
        skip=skip,
    )
    try:
        return run_notebook(runner, timeout=overall_timeout(limits))
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)
