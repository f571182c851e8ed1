"""Grade ONE submission: the pure unit of work of the grading pipeline.

:func:`grade_submission` turns a :class:`GradeJob` (plain, JSON-able data: where the
submission, the trusted release and the staging folder are, the trusted test cells, the
limits) into a :class:`~autograder.pipeline.records.SubmissionRecord`. It reads nothing
else of the course (no gradebook) and writes only the executed notebooks into
``job.staging_dir`` and scratch files into its private work dir, so any
``concurrent.futures`` executor can run it: the local process pool today, Dask later.

For each notebook of the assignment it

1. reads the student's file (a renamed copy is recognised by its grade ids; a missing or
   unreadable one is replaced by the release stub, so its items score 0 and the record
   says why) and normalises it against the trusted template (:mod:`.normalize`);
2. executes it with :func:`execute_notebook` in a fresh kernel whose cwd is a scratch copy
   of the submission's files plus the release's helper files, under the limits of
   :mod:`.limits`; a kernel that times out or dies leaves the cells before it with their
   results and gives every later test cell an error output saying why;
3. writes the executed notebook to the staging dir and scores every graded cell exactly as
   nbgrader will (``nbgrader.utils.determine_grade``).

:func:`execute_notebook` is the one replaceable execution step: by default
(``GradeJob.sandbox``) :func:`autograder.pipeline.sandboxed.execute_notebook_sandboxed`
replaces it, running the kernel in a sandbox with the hidden tests judged outside it, where
this machine allows a private file system.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as _dt
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode

from autograder.spec import ASSIGNMENT_ENV

from .limits import KernelCgroups, Limits, detect_isolation, launcher_prefix
from .normalize import (
    TrustedCell,
    grade_id_of,
    load_submitted,
    normalize,
    notebook_grade_ids,
    stub_notebook,
)
from .records import ItemRecord, NotebookRecord, SubmissionRecord

# Error names written into cells the grader stopped or never ran.
NOT_RUN_ENAME = "CellNotRun"
TIMEOUT_ENAME = "CellTimeoutError"
KERNEL_DIED_ENAME = "KernelDied"
OUTPUT_LIMIT_ENAME = "OutputLimitExceeded"
# Files of a submission copied into the scratch dir: at most this many, each at most this big.
MAX_SCRATCH_FILES = 200
MAX_SCRATCH_FILE_BYTES = 50 * 2**20
# Extra wall time allowed around a notebook (kernel shutdown, bookkeeping) before the worker
# abandons it.
OVERALL_SLACK_SECONDS = 30.0
KERNEL_ENV = {
    # one thread per kernel: the pool runs one kernel per core
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "Agg",
    "PYTHONDONTWRITEBYTECODE": "1",
    "NBGRADER_EXECUTION": "autograde",
}


# ---- the unit of work -------------------------------------------------------------------


@dataclass(frozen=True)
class GradeJob:
    """Everything needed to grade one submission, as plain data.

    Attributes:
        student: the student id (folder name in ``submitted/``).
        assignment: the assignment id.
        submission_dir: the student's submitted folder (read only).
        release_dir: the trusted release folder: template notebooks and helper files.
        notebooks: the assignment's notebook names (no ``.ipynb``), in order.
        trusted_cells: notebook → grade id → :class:`TrustedCell` as a dict (gradebook copy).
        staging_dir: where the executed notebooks are written (``<name>.ipynb``).
        limits: the execution limits of each notebook.
        work_dir: a private scratch root (None: a fresh temporary directory, removed after).
        sandbox: execute in the sandbox with hidden tests judged outside the kernel
            (:mod:`.sandboxed`); where no private file system is possible, the plain
            executor runs and the record's isolation says what is missing.
        spec_path: the assignment's spec file (its hidden checks, call stage, release
            files); None: whatever the registry's default assignment is.
    """

    student: str
    assignment: str
    submission_dir: str
    release_dir: str
    notebooks: tuple[str, ...]
    trusted_cells: dict[str, dict[str, dict[str, Any]]]
    staging_dir: str
    limits: Limits = field(default_factory=Limits)
    work_dir: str | None = None
    sandbox: bool = True
    spec_path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "assignment": self.assignment,
            "submission_dir": self.submission_dir,
            "release_dir": self.release_dir,
            "notebooks": list(self.notebooks),
            "trusted_cells": self.trusted_cells,
            "staging_dir": self.staging_dir,
            "limits": self.limits.to_dict(),
            "work_dir": self.work_dir,
            "sandbox": self.sandbox,
            "spec_path": self.spec_path,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradeJob:
        return cls(
            student=data["student"],
            assignment=data["assignment"],
            submission_dir=data["submission_dir"],
            release_dir=data["release_dir"],
            notebooks=tuple(data["notebooks"]),
            trusted_cells=data["trusted_cells"],
            staging_dir=data["staging_dir"],
            limits=Limits.from_dict(data.get("limits", {})),
            work_dir=data.get("work_dir"),
            sandbox=data.get("sandbox", True),
            spec_path=data.get("spec_path"),
        )


@dataclass
class ExecutedNotebook:
    """What :func:`execute_notebook` returns.

    ``status`` is "graded" (every cell ran), "timeout", "kernel_died", "memory_limit",
    "output_limit" or "error" (the kernel could not start); ``reasons`` say where and why.
    """

    nb: NotebookNode
    status: str
    reasons: list[str]
    seconds: float
    peak_memory_bytes: int | None = None
    isolation: dict[str, Any] | None = None


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def grade_submission(job: GradeJob) -> SubmissionRecord:
    """Grade one submission (see the module docstring). Never raises for a bad submission:
    a problem of the grader itself becomes a record with status "error"."""
    started, t0 = _now(), time.monotonic()
    isolation = detect_isolation(use_cgroups=job.limits.use_cgroups)
    record = SubmissionRecord(
        student=job.student,
        assignment=job.assignment,
        status="graded",
        isolation={k: v for k, v in isolation.items() if not k.startswith("cgroup_")},
        started=started,
    )
    own_work = job.work_dir is None
    work_root = Path(tempfile.mkdtemp(prefix="ag-")) if own_work else Path(job.work_dir)
    if job.sandbox:
        from .sandboxed import sandbox_available, sandbox_missing

        if sandbox_available():
            record.isolation["sandbox"] = "private root (see notebooks' runs)"
        else:
            record.isolation["sandbox"] = "unavailable: plain executor"
            record.isolation["sandbox_missing"] = sandbox_missing()
    else:
        record.isolation["sandbox"] = "off (--no-sandbox)"
    try:
        Path(job.staging_dir).mkdir(parents=True, exist_ok=True)
        sources = _match_notebooks(Path(job.submission_dir), job)
        for name in job.notebooks:
            nb_record, run_isolation = _grade_notebook(
                job, name, sources.get(name), work_root / name, isolation
            )
            record.notebooks.append(nb_record)
            if run_isolation is not None:
                record.isolation["sandbox"] = run_isolation
                used = run_isolation.get("used", {})
                for key in ("filesystem", "user"):
                    if key in used:
                        record.isolation[key] = used[key]
    except Exception as exc:
        record.status = "error"
        record.reasons.append(f"grader error: {type(exc).__name__}: {exc}")
        record.reasons.append(traceback.format_exc(limit=5))
    finally:
        if own_work:
            shutil.rmtree(work_root, ignore_errors=True)
    record.update_status()
    record.finished = _now()
    record.seconds = round(time.monotonic() - t0, 3)
    return record


def _match_notebooks(folder: Path, job: GradeJob) -> dict[str, tuple[Path, str | None]]:
    """Map each assignment notebook to the submitted file to grade: its own file, else a
    renamed copy recognised by its grade ids (→ (path, original file name))."""
    found: dict[str, tuple[Path, str | None]] = {}
    if not folder.is_dir():
        return found
    expected = {f"{name}.ipynb": name for name in job.notebooks}
    extras: list[Path] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix != ".ipynb":
            continue
        if path.name in expected:
            found[expected[path.name]] = (path, None)
        else:
            extras.append(path)
    missing = [n for n in job.notebooks if n not in found]
    if not missing or not extras:
        return found
    # a renamed notebook: the extra file sharing the most grade ids with a missing one
    extra_ids: dict[Path, set[str]] = {}
    for path in extras:
        nb, _ = load_submitted(path)
        if nb is not None:
            extra_ids[path] = notebook_grade_ids(nb)
    for name in missing:
        wanted = set(job.trusted_cells.get(name, {}))
        best = max(
            extra_ids, key=lambda p: (len(extra_ids[p] & wanted), -len(p.name)), default=None
        )
        if best is not None and extra_ids[best] & wanted:
            found[name] = (best, best.name)
            del extra_ids[best]
    return found


def _grade_notebook(
    job: GradeJob,
    name: str,
    source: tuple[Path, str | None] | None,
    work: Path,
    isolation: dict[str, object],
) -> tuple[NotebookRecord, dict[str, Any] | None]:
    trusted = {gid: TrustedCell.from_dict(d) for gid, d in job.trusted_cells[name].items()}
    template = nbformat.read(os.path.join(job.release_dir, f"{name}.ipynb"), as_version=4)
    status, reasons = "graded", []
    student: NotebookNode | None = None
    if source is None:
        status = "missing"
        reasons.append(f"{name}.ipynb is missing from the submission: the release stub was graded")
    else:
        path, renamed_from = source
        student, load_reasons = load_submitted(path)
        reasons.extend(load_reasons)
        if student is None:
            status = "invalid_json"
            reasons.append("the release stub was graded instead")
        elif renamed_from is not None:
            reasons.append(f"graded {renamed_from!r} as {name}.ipynb (renamed)")
    if student is None:
        nb = stub_notebook(template, trusted)
    else:
        nb, repairs = normalize(student, template, trusted)
        reasons.extend(repairs)
        if reasons and status == "graded":
            status = "repaired"

    work.mkdir(parents=True, exist_ok=True)
    scratch = work / "scratch"
    _prepare_scratch(scratch, Path(job.submission_dir), Path(job.release_dir))
    executed = None
    if job.sandbox:
        from .sandboxed import execute_notebook_sandboxed, sandbox_available

        if sandbox_available():
            executed = execute_notebook_sandboxed(
                nb,
                scratch,
                job.limits,
                isolation=isolation,
                work_dir=work,
                spec=job.spec_path,
                release_dir=job.release_dir,
            )
    if executed is None:
        executed = execute_notebook(
            nb, scratch, job.limits, isolation=isolation, work_dir=work, spec=job.spec_path
        )
    if executed.status != "graded" and status in ("graded", "repaired"):
        status = executed.status
    reasons.extend(executed.reasons)
    nbformat.write(executed.nb, os.path.join(job.staging_dir, f"{name}.ipynb"))
    items = score_items(executed.nb)
    record = NotebookRecord(
        name=name,
        status=status,  # type: ignore[arg-type]
        reasons=reasons,
        seconds=round(executed.seconds, 3),
        items=items,
        peak_memory_bytes=executed.peak_memory_bytes,
    )
    record.recompute_score()
    return record, executed.isolation


def not_run_notebook(job: GradeJob, name: str, reason: str) -> NotebookNode:
    """The release stub of `name` with every graded code cell failed as not run: what is
    staged when a notebook could not be executed (it must score 0, never full marks)."""
    trusted = {gid: TrustedCell.from_dict(d) for gid, d in job.trusted_cells[name].items()}
    template = nbformat.read(os.path.join(job.release_dir, f"{name}.ipynb"), as_version=4)
    nb = stub_notebook(template, trusted)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
            cell.outputs = [_error_output(NOT_RUN_ENAME, f"this cell was not run: {reason}")]
    return nb


def _failed_notebook(job: GradeJob, name: str, reason: str) -> NotebookRecord:
    nb = not_run_notebook(job, name, reason)
    nbformat.write(nb, os.path.join(job.staging_dir, f"{name}.ipynb"))
    record = NotebookRecord(name=name, status="error", reasons=[reason], items=score_items(nb))
    record.recompute_score()
    return record


def _prepare_scratch(scratch: Path, submission: Path, release: Path) -> None:
    """The kernel's cwd: the submission's non-notebook files, then the release's helper
    files over them (a helper module is always the trusted copy)."""
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    (scratch / ".tmp").mkdir()
    copied = 0
    if submission.is_dir():
        for path in sorted(submission.rglob("*")):
            if copied >= MAX_SCRATCH_FILES:
                break
            if (
                path.is_symlink()
                or not path.is_file()
                or path.suffix == ".ipynb"
                or ".ipynb_checkpoints" in path.parts
                or path.stat().st_size > MAX_SCRATCH_FILE_BYTES
            ):
                continue
            dest = scratch / path.relative_to(submission)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            copied += 1
    for path in sorted(release.iterdir()):
        if path.is_file() and path.suffix != ".ipynb":
            shutil.copyfile(path, scratch / path.name)


# ---- scoring ------------------------------------------------------------------------------


def score_items(nb: NotebookNode) -> list[ItemRecord]:
    """One :class:`ItemRecord` per grade cell, scored as nbgrader's autograde scores it."""
    from nbgrader.utils import determine_grade

    items = []
    for cell in nb.cells:
        nbg = cell.get("metadata", {}).get("nbgrader", {})
        if not nbg.get("grade"):
            continue
        gid = nbg["grade_id"]
        points, max_points = determine_grade(cell)
        if cell.cell_type != "code" or nbg.get("solution"):
            items.append(
                ItemRecord(
                    gid,
                    points,
                    max_points,
                    "manual",
                    "" if points is None else "no answer",
                    kind="manual",
                )
            )
            continue
        status, message = "passed", ""
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                status = "not_run" if out.get("ename") == NOT_RUN_ENAME else "failed"
                message = _first_line(f"{out.get('ename', '')}: {out.get('evalue', '')}")
                break
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                status = "failed"
                message = _first_line(f"wrote to stderr: {out.get('text', '')}")
                break
        items.append(ItemRecord(gid, points, max_points, status, message))
    return items


def _first_line(text: str, limit: int = 300) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return text.strip()[:limit]


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return nbformat.v4.new_output(
        "error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"]
    )


# ---- execution ------------------------------------------------------------------------------


def execute_notebook(
    nb: NotebookNode,
    scratch_dir: str | Path,
    limits: Limits,
    *,
    isolation: dict[str, object] | None = None,
    work_dir: str | Path | None = None,
    spec: str | None = None,
) -> ExecutedNotebook:
    """Execute a copy of `nb` in a fresh kernel under `limits`, cwd `scratch_dir`.

    Every code cell runs in order with errors allowed. At the wall limit, the output limit
    or a kernel death the kernel's processes are killed, the running cell gets an error
    output with the reason, and every later graded cell an error output ``CellNotRun``.
    Hidden test cells run their checks in the kernel itself: `spec` (a spec file) tells
    them which assignment's (``AUTOGRADER_ASSIGNMENT``).
    """
    if isolation is None:
        isolation = detect_isolation(use_cgroups=limits.use_cgroups)
    own_work = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="ag-exec-")) if own_work else Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    nb = copy.deepcopy(nb)
    runner = _Runner(nb, Path(scratch_dir), limits, isolation, work)
    if spec is not None:
        runner.extra_env[ASSIGNMENT_ENV] = str(spec)
    try:
        return _run_coroutine(
            runner.run(),
            timeout=limits.startup_seconds + limits.wall_seconds + OVERALL_SLACK_SECONDS,
            runner=runner,
        )
    finally:
        if own_work:
            shutil.rmtree(work, ignore_errors=True)


def _run_coroutine(coro: Any, *, timeout: float, runner: _Runner) -> ExecutedNotebook:
    """Run `coro` to completion in a fresh event loop (in a helper thread if this thread
    already runs one), abandoning it after `timeout` seconds."""

    async def guarded() -> ExecutedNotebook:
        try:
            return await asyncio.wait_for(coro, timeout)
        except asyncio.TimeoutError:
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


class _Runner:
    """One notebook execution: kernel manager, client, cgroups, bookkeeping."""

    def __init__(
        self,
        nb: NotebookNode,
        scratch: Path,
        limits: Limits,
        isolation: dict[str, object],
        work: Path,
    ) -> None:
        self.nb = nb
        self.scratch = scratch
        self.limits = limits
        self.isolation = isolation
        self.work = work
        self.reasons: list[str] = []
        self.t0 = time.monotonic()
        self.cgroups: KernelCgroups | None = None
        self.km: Any = None
        self.client: Any = None
        self.output_exceeded_cell: int | None = None
        self.current_cell: int | None = None
        self.peak: int | None = None
        self.extra_env: dict[str, str] = {}

    # -- lifecycle
    async def run(self) -> ExecutedNotebook:
        from nbclient.exceptions import CellTimeoutError, DeadKernelError

        status, reason = "graded", ""
        with contextlib.ExitStack() as stack:
            if str(self.isolation.get("memory", "")).startswith("cgroup") or str(
                self.isolation.get("processes", "")
            ).startswith("cgroup"):
                try:
                    self.cgroups = stack.enter_context(KernelCgroups(self.limits, self.isolation))
                except OSError as exc:
                    self.cgroups = None
                    self.reasons.append(f"cgroup limits unavailable ({exc}): rlimits only")
            try:
                await self._start()
            except Exception as exc:
                self.kill()
                await self._cleanup()
                reason = f"the kernel did not start: {type(exc).__name__}: {exc}"
                if self.cgroups is not None and self.cgroups.oom_killed():
                    return self.finish("memory_limit", reason + " (memory limit)")
                return self.finish("error", reason)
            deadline = time.monotonic() + self.limits.wall_seconds
            self.client.timeout_func = lambda cell: max(1, math.ceil(deadline - time.monotonic()))
            try:
                for index, cell in enumerate(self.nb.cells):
                    if cell.cell_type != "code":
                        continue
                    if time.monotonic() >= deadline:
                        status = "timeout"
                        reason = (
                            f"the wall-time limit ({self.limits.wall_seconds:g} s) was "
                            f"reached before cell {self._label(index)}"
                        )
                        self.current_cell = index - 1
                        break
                    self.current_cell = index
                    await self.client.async_execute_cell(
                        cell, index, execution_count=self.client.code_cells_executed + 1
                    )
                    if self.output_exceeded_cell is not None:
                        raise DeadKernelError("output limit")
                    self._check_memory_error(cell, index)
            except CellTimeoutError:
                status = "timeout"
                reason = (
                    f"the wall-time limit ({self.limits.wall_seconds:g} s) was reached "
                    f"in cell {self._label(self.current_cell)}"
                )
                self._mark_running(TIMEOUT_ENAME, reason)
            except DeadKernelError:
                status, reason = self._death_cause()
                self._mark_running(
                    OUTPUT_LIMIT_ENAME if status == "output_limit" else KERNEL_DIED_ENAME, reason
                )
            finally:
                if status != "graded":
                    self.kill()
                if self.cgroups is not None:
                    self.peak = self.cgroups.peak_memory()
                await self._cleanup()
        return self.finish(status, reason)

    def finish(self, status: str, reason: str) -> ExecutedNotebook:
        if reason:
            self.reasons.append(reason)
        if status != "graded":
            self._mark_not_run(reason)
        if status == "graded" and any("MemoryError" in r for r in self.reasons):
            status = "memory_limit"
        return ExecutedNotebook(
            self.nb, status, self.reasons, time.monotonic() - self.t0, self.peak
        )

    async def _start(self) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from traitlets import List as TList

        prefix = launcher_prefix(self.limits, self.isolation, self.cgroups)
        netns = (
            "--" in prefix
            and self.limits.isolate_network
            and self.isolation.get("network") == "netns"
        )

        class LimitedKernelManager(AsyncKernelManager):
            launch_prefix = TList()

            def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
                cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
                return [*self.launch_prefix, *cmd, *(extra_arguments or [])]

        km_kwargs: dict[str, Any] = {}
        if netns:
            # the kernel has no network: talk to it over Unix sockets in the work dir
            ipc_dir = Path(tempfile.mkdtemp(prefix="agk-"))
            self._ipc_dir = ipc_dir
            km_kwargs.update(transport="ipc", ip=str(ipc_dir / "k"))
        self.km = LimitedKernelManager(
            kernel_name="python3",
            launch_prefix=prefix,
            connection_file=str(self.work / f"kernel-{uuid.uuid4().hex[:8]}.json"),
            **km_kwargs,
        )
        self.client = self._notebook_client()
        env = {**_kernel_env(self.scratch), **self.extra_env}
        await self.km.start_kernel(
            extra_arguments=["--HistoryManager.enabled=False", "--quiet"],
            env=env,
            cwd=str(self.scratch),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        self.client.kc = self.km.client()
        await asyncio.wait_for(self._connect(), self.limits.startup_seconds)

    async def _connect(self) -> None:
        kc = self.client.kc
        kc.start_channels()
        await kc.wait_for_ready(timeout=self.limits.startup_seconds)
        msg_id = kc.kernel_info()
        reply = await self.client.async_wait_for_reply(msg_id)
        if reply is not None and "language_info" in reply.get("content", {}):
            self.nb.metadata["language_info"] = reply["content"]["language_info"]

    async def _cleanup(self) -> None:
        with contextlib.suppress(Exception):
            if self.client is not None and self.client.kc is not None:
                self.client.kc.stop_channels()
        with contextlib.suppress(Exception):
            if self.km is not None and self.km.has_kernel:
                await self.km.shutdown_kernel(now=True)
        with contextlib.suppress(Exception):
            if self.km is not None:
                await self.km.cleanup_resources()
        if getattr(self, "_ipc_dir", None) is not None:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)

    def _notebook_client(self) -> Any:
        """The nbclient that runs the cells on ``self.km``: every output goes through
        ``_on_output`` (output limits), errors do not stop the run, no cell is skipped."""
        from nbclient import NotebookClient

        runner = self

        class LimitedClient(NotebookClient):
            def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
                return runner._on_output(super().output, outs, msg, display_id, cell_index)

        self._cell_bytes: dict[int, int] = {}
        return LimitedClient(
            self.nb,
            km=self.km,
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

    # -- callbacks and bookkeeping
    def _on_output(
        self, default: Any, outs: list, msg: dict, display_id: str | None, cell_index: int
    ) -> Any:
        if self.output_exceeded_cell is not None:
            return None
        size = _message_size(msg)
        used = self._cell_bytes.get(cell_index, 0) + size
        self._cell_bytes[cell_index] = used
        if used > self.limits.output_bytes:
            self.output_exceeded_cell = cell_index
            self.kill()
            return None
        return default(outs, msg, display_id, cell_index)

    def _death_cause(self) -> tuple[str, str]:
        label = self._label(self.current_cell)
        if self.output_exceeded_cell is not None:
            return "output_limit", (
                f"cell {label} printed more than the output limit "
                f"({self.limits.output_bytes} bytes): the kernel was stopped"
            )
        if self.cgroups is not None and self.cgroups.oom_killed():
            return "memory_limit", (
                f"the memory limit ({_fmt_bytes(self.limits.memory_bytes)}) was exceeded in "
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

    def _check_memory_error(self, cell: NotebookNode, index: int) -> None:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error" and (
                out.get("ename") == "MemoryError"
                or "can't allocate memory" in str(out.get("evalue", ""))
            ):
                self.reasons.append(
                    f"cell {self._label(index)} ran out of memory (MemoryError at the "
                    f"{_fmt_bytes(self.limits.memory_bytes)} limit)"
                )

    def _label(self, index: int | None) -> str:
        if index is None or index < 0 or index >= len(self.nb.cells):
            return "?"
        gid = grade_id_of(self.nb.cells[index])
        return f"{index} ('{gid}')" if gid else str(index)

    def _mark_running(self, ename: str, reason: str) -> None:
        index = self.current_cell
        if index is None or not 0 <= index < len(self.nb.cells):
            return
        cell = self.nb.cells[index]
        if cell.cell_type == "code":
            cell.setdefault("outputs", []).append(_error_output(ename, reason))
        self._stopped_at = index

    def _mark_not_run(self, reason: str) -> None:
        start = getattr(self, "_stopped_at", self.current_cell)
        start = -1 if start is None else start
        for index, cell in enumerate(self.nb.cells):
            if index <= start or cell.cell_type != "code":
                continue
            cell.outputs = []
            cell.execution_count = None
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
                cell.outputs.append(
                    _error_output(
                        NOT_RUN_ENAME,
                        f"this cell was not run: {reason}" if reason else "this cell was not run",
                    )
                )
        self._truncate_outputs()

    def _truncate_outputs(self) -> None:
        """Keep at most `output_bytes` of text per output (a killed cell keeps what came)."""
        limit = self.limits.output_bytes
        for cell in self.nb.cells:
            for out in cell.get("outputs", []):
                if out.get("output_type") == "stream" and len(out.get("text", "")) > limit:
                    out["text"] = out["text"][:limit] + "\n[output truncated]\n"


def _message_size(msg: dict) -> int:
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


def _fmt_bytes(value: int | None) -> str:
    if value is None:
        return "no"
    return f"{value / 2**20:.0f} MiB"


def _kernel_env(scratch: Path) -> dict[str, str]:
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
