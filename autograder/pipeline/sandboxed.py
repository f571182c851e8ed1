"""The sandboxed execution step: :func:`execute_notebook_sandboxed`.

A drop-in replacement of :func:`autograder.pipeline.runner.execute_notebook` (the same
:class:`~autograder.pipeline.runner.ExecutedNotebook`), chosen by default by the worker. Its
runner (:class:`SandboxRunner`) is a :class:`~autograder.pipeline.runner.NotebookRunner`
with two hooks of its own: the kernel starts inside the sandbox, and probe records have
their own output budget. It differs from the plain executor in two ways:

1. the kernel runs inside :class:`autograder.sandbox.Sandbox`: a private root file system
   (only the system directories, the Python environment, the scratch copy of the
   submission and a read-only probe runtime), the unprivileged user ``nobody``, no network
   (the grader talks to the kernel over Unix sockets), per-run cgroups for memory and
   processes, rlimits for CPU time, open files and file size;
2. hidden test cells never run ``check_function`` / ``check_answer`` in the student's
   kernel. Each one is replaced by a probe cell (:mod:`autograder.sandbox.probe`) that runs
   only the call stage on cases written beforehand by this trusted process and emits the
   student's outputs as plain data; the verdicts are computed here
   (:mod:`autograder.sandbox.judge`) against the reference and written back as the cell's
   output, and the trusted cell source is restored.

When :func:`autograder.sandbox.probe_isolation` finds no way to give the kernel a private
file system, the worker falls back to the plain executor and records what is missing.
"""

from __future__ import annotations

import ast
import asyncio
import concurrent.futures as cf
import contextlib
import copy
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from nbformat import NotebookNode, from_dict
from nbformat.v4 import output_from_msg
from traitlets import Any as TAny

from autograder import pyparse
from autograder.checks import registry, seeding
from autograder.errors import SandboxError
from autograder.sandbox import judge
from autograder.sandbox.isolation import (
    PROTECTED_PATHS,
    Sandbox,
    default_env,
    prepare_runtime,
    probe_isolation,
)
from autograder.sandbox.probe import MIME_TYPE, RECORD_MAX_BYTES
from autograder.sandbox.zygote import shared_zygote
from autograder.spec import AssignmentSpec, load_spec

from .limits import Limits, detect_isolation
from .runner import (
    RUNNER_ENAMES,
    ExecutedNotebook,
    NotebookRunner,
    OutputHandler,
    message_size,
    overall_timeout,
    run_notebook,
)
from .warm import (  # noqa: F401  (sandbox_available and the zygote's set-up: here too)
    KERNEL_ENV,
    KERNEL_ZYGOTE_ENV,
    PRIVATE_FS_MODES,
    kernel_preload,
    sandbox_available,
    why_cold,
)

#: Names of the trusted check calls a hidden test cell makes.
CHECK_CALLS = ("check_function", "check_answer")


def sandbox_missing() -> list[str]:
    """What this machine's isolation lacks, in words (for the grading record)."""
    return list(probe_isolation().missing)


@dataclass
class _ProbedCell:
    index: int
    source: str  # the hidden test cell's own source, restored once it is judged
    requests: list[judge.ProbeRequest]
    probe: str = ""  # the probe cell's source, run in its place


def check_calls(source: str) -> list[tuple[str, str | None]] | None:
    """The ``(name, part)`` of every ``check_function``/``check_answer`` call in `source`,
    or None when the cell is not a hidden-test cell this module can probe (no such call,
    a name or part that is not a literal string, or code that does not parse)."""
    try:
        tree = pyparse.parse(source)
    except SyntaxError:
        return None
    calls: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        fname = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if fname not in CHECK_CALLS:
            continue
        if not node.args or not isinstance(node.args[0], ast.Constant):
            return None
        name = node.args[0].value
        part: str | None = None
        for kw in node.keywords:
            if kw.arg == "part":
                if not isinstance(kw.value, ast.Constant):
                    return None
                part = kw.value.value
        if len(node.args) >= 3:
            if not isinstance(node.args[2], ast.Constant):
                return None
            part = node.args[2].value
        if not isinstance(name, str) or not (part is None or isinstance(part, str)):
            return None
        calls.append((name, part))
    return calls or None


def _probe_source(calls: list[tuple[str, str | None]], requests: list[judge.ProbeRequest]) -> str:
    return "".join(judge.probe_cell_source(name, r.path) for (name, _), r in zip(calls, requests))


def hidden_test_cells(nb: NotebookNode) -> list[tuple[int, str]]:
    """``(index, source)`` of every hidden test cell of `nb`: a graded code cell that is not
    a solution."""
    cells = []
    for index, cell in enumerate(nb.cells):
        nbg = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and nbg.get("grade") and not nbg.get("solution"):
            cells.append((index, cell.source))
    return cells


def plan_probes(
    cells: list[tuple[int, str]], runtime: Path, nonce: str, assignment: str | None = None
) -> list[_ProbedCell]:
    """The probe of each of `cells` (:func:`hidden_test_cells`) that calls the checks: its
    cases are made and written into `runtime` as requests. Touches no notebook, so it can
    run in a thread of its own while the kernel starts."""
    probed: list[_ProbedCell] = []
    for index, source in cells:
        calls = check_calls(source)
        if calls is None:
            continue
        requests = [
            judge.write_request(
                runtime,
                name,
                part,
                nonce=f"{nonce}-{index}-{k}",  # one per request: a batch's records are told apart
                key=f"{index}-{k}",
                assignment=assignment,
            )
            for k, (name, part) in enumerate(calls)
        ]
        probed.append(_ProbedCell(index, source, requests, _probe_source(calls, requests)))
    return probed


def swap_in_probes(nb: NotebookNode, probed: list[_ProbedCell]) -> None:
    """Replace (in place) each probed hidden test cell of `nb` by its probe cell."""
    for item in probed:
        nb.cells[item.index].source = item.probe


def judge_probes(nb: NotebookNode, probed: list[_ProbedCell]) -> None:
    """Write each probed cell's trusted verdict as its output and restore its source."""
    for item in probed:
        cell = nb.cells[item.index]
        outputs = cell.get("outputs", [])
        stopped = [
            o
            for o in outputs
            if o.get("output_type") == "error" and o.get("ename") in RUNNER_ENAMES
        ]
        if stopped:
            cell.outputs = stopped
        else:
            message = None
            for request in item.requests:
                message = judge.judge_records(request, judge.read_records(outputs, request))
                if message is not None:
                    break
            cell.outputs = [from_dict(o) for o in judge.verdict_outputs(message)]
        cell.source = item.source


class SandboxCgroups:
    """A :class:`Sandbox` seen through the interface a runner uses of its cgroups."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb

    def oom_killed(self) -> bool:
        return self.sb.oom_kills() > 0

    def peak_memory(self) -> int | None:
        return self.sb.peak_memory()

    def kill_all(self) -> None:
        self.sb.kill()


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command runs inside `sandbox` (a :class:`Sandbox`),
    which also gets the connection file handed over (the kernel runs as another user)."""

    sandbox = TAny(None, allow_none=True, help="the Sandbox the kernel runs in")
    zygote = TAny(None, allow_none=True, help="a started Zygote to fork the kernel from")

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
        return self.sandbox.command([*cmd, *(extra_arguments or [])], zygote=self.zygote)

    def write_connection_file(self, **kwargs: Any) -> Any:
        result = super().write_connection_file(**kwargs)
        self.sandbox.hand_over(self.connection_file)
        return result


class SandboxRunner(NotebookRunner):
    """The runner with its kernel started inside a :class:`Sandbox` (which owns the cgroups),
    probe records counted against their own output budget."""

    def __init__(
        self,
        nb: NotebookNode,
        scratch: Path,
        limits: Limits,
        isolation: dict[str, object],
        work: Path,
        sb: Sandbox,
        ipc_dir: Path,
        planned: cf.Future[list[_ProbedCell]],
        *,
        skip: Iterable[int] = (),
        zygote: Any = None,
    ) -> None:
        # the sandbox, not the runner, owns the memory and process limits
        plain = {
            k: ("sandbox" if k in ("memory", "processes") else v) for k, v in isolation.items()
        }
        super().__init__(nb, scratch, limits, plain, work, skip=skip)
        self.sb = sb
        self.ipc_dir = ipc_dir
        self.cgroups = SandboxCgroups(sb)
        self.probes: dict[int, list[judge.ProbeRequest]] = {}
        self.probe_budget: dict[int, int] = {}
        # the budget of a batch of probe cells, under the index of its first cell (where
        # nbclient files the batch's outputs): the sum of its cells' budgets
        self.batch_budget: dict[int, int] = {}
        self.probe_bytes: dict[int, int] = {}
        self.zygote = zygote
        self.planned = planned  # the probes, made in a thread while the kernel starts

    async def before_cells(self) -> None:
        """Wait for the probes' cases (the wall-time limit has not started yet), swap the
        probe cells into the notebook and count their output budgets."""
        started = time.monotonic()
        probed = await asyncio.wrap_future(self.planned)
        self.phases["cases_wait"] = time.monotonic() - started
        swap_in_probes(self.nb, probed)
        self.probes = {p.index: p.requests for p in probed}
        # probe records have their own budget: RECORD_MAX_BYTES per case (and per header)
        self.probe_budget = {
            i: RECORD_MAX_BYTES * (1 + sum(len(r.ordered) + 1 for r in requests))
            for i, requests in self.probes.items()
        }

    def batch(self, order: list[int], pos: int) -> list[int]:
        """Consecutive probe cells (nothing run between them) run as one execution: one
        round trip to the kernel instead of one per hidden test cell."""
        batch = []
        for index in order[pos:]:
            if index not in self.probes:
                break
            batch.append(index)
        if len(batch) < 2:
            return [order[pos]]
        self.batch_budget[batch[0]] = sum(self.probe_budget[i] for i in batch)
        return batch

    def batch_source(self, batch: list[int]) -> str:
        calls = [(r.name, r.path) for i in batch for r in self.probes[i]]
        return (
            '__import__("autograder.sandbox.probe", fromlist=["run_probes"]).run_probes('
            f"{calls!r}, globals())\n"
        )

    async def late_outputs(self, batch: list[int], joint: NotebookNode) -> None:
        """The records of this batch still waiting on the IOPub channel (at most 1 s)."""
        mine = {r.nonce for i in batch for r in self.probes[i]}
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            try:
                msg = await self.client.kc.iopub_channel.get_msg(timeout=0.1)
            except Exception:  # queue.Empty: nothing more came
                return
            if judge.record_nonce(msg.get("content", {})) in mine:
                joint.outputs.append(output_from_msg(msg))

    def split_batch(self, batch: list[int], outputs: list) -> int | None:
        """Each probe output goes to the cell whose request it answers (every request has a
        nonce of its own, and its records come as one output); anything else (what the
        student's code printed, an error) to the cell running at that point: the first one
        whose outputs are not all in yet."""
        owner = {r.nonce: i for i in batch for r in self.probes[i]}
        missing = {i: len(self.probes[i]) for i in batch}
        shares: dict[int, list] = {i: [] for i in batch}
        at = 0  # position in `batch` of the cell running

        def done(i: int) -> bool:
            return missing[i] <= 0

        for out in outputs:
            target = owner.get(judge.record_nonce(out))
            if target is None:
                target = batch[at]
            else:
                missing[target] -= 1
                at = max(at, batch.index(target))  # its records: the cells before are done
            shares[target].append(out)
            while at < len(batch) - 1 and done(batch[at]):
                at += 1
        for i in batch:
            self.nb.cells[i].outputs = shares[i]
        return None if done(batch[at]) and at == len(batch) - 1 else batch[at]

    async def start_kernel(self) -> None:
        self.km = SandboxedKernelManager(
            sandbox=self.sb,
            zygote=self.zygote,
            kernel_name="python3",
            transport="ipc",
            ip=str(self.ipc_dir / "k"),
            connection_file=str(self.ipc_dir / f"kernel-{uuid.uuid4().hex[:8]}.json"),
        )
        self.client = self.notebook_client()
        await self.km.start_kernel(
            extra_arguments=["--HistoryManager.enabled=False", "--quiet"],
            cwd=str(self.scratch),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )

    def on_output(
        self, default: OutputHandler, outs: list, msg: dict, display_id: str | None, cell_index: int
    ) -> Any:
        data = msg.get("content", {}).get("data")
        if isinstance(data, dict) and MIME_TYPE in data and cell_index in self.probe_budget:
            if self.output_exceeded_cell is not None:
                return None
            used = self.probe_bytes.get(cell_index, 0) + message_size(msg)
            self.probe_bytes[cell_index] = used
            if used > self.batch_budget.get(cell_index, self.probe_budget[cell_index]):
                self.output_exceeded_cell = cell_index
                self.kill()
                return None
            return default(outs, msg, display_id, cell_index)
        return super().on_output(default, outs, msg, display_id, cell_index)


def execute_notebook_sandboxed(
    nb: NotebookNode,
    scratch_dir: str | Path,
    limits: Limits,
    *,
    isolation: dict[str, object] | None = None,
    work_dir: str | Path | None = None,
    spec: AssignmentSpec | str | None = None,
    release_dir: str | Path | None = None,
    case_seed: int | None = None,
    skip: Iterable[int] = (),
    warm: bool = True,
) -> ExecutedNotebook:
    """Execute a copy of `nb` like :func:`~autograder.pipeline.runner.execute_notebook`,
    with the kernel in a sandbox and the hidden tests judged outside it (module docstring).

    `spec` is the assignment (or its spec file) whose hidden checks the notebook calls:
    its call-stage modules and Python release files (from `release_dir`, the trusted
    release) go into the probe runtime, its staff folders are hidden in the sandbox. With
    no spec, the default assignment of the registry is used. The hidden checks' cases are
    made here, for `case_seed` (:mod:`autograder.checks.seeding`; None: the fixed cases):
    only the cases enter the sandbox, never the seed. The code cells in `skip` are not run.
    With `warm` the kernel is forked from this process's zygote (:mod:`autograder.sandbox.
    zygote`) where the sandbox mode allows it; else, or when the zygote cannot start, it
    starts cold (``isolation["used"]["kernel"]`` says which, and why).

    The returned ``ExecutedNotebook.isolation`` holds the machine's isolation report
    (``probe_isolation().to_dict()``) and what this run used (``Sandbox.used``).
    Raises :class:`autograder.sandbox.SandboxError` when no private file system is
    possible here (callers check :func:`sandbox_available` first).
    """
    report = probe_isolation()
    if report.mode not in PRIVATE_FS_MODES:
        raise SandboxError("no private file system is possible here: " + "; ".join(report.missing))
    if isolation is None:
        isolation = detect_isolation(use_cgroups=limits.use_cgroups)
    scratch = Path(scratch_dir)
    own_work = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="ag-exec-")) if own_work else Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    ipc_dir = Path(tempfile.mkdtemp(prefix="agk-"))  # short: Unix socket paths <= 107 chars
    nb = copy.deepcopy(nb)
    planning: cf.ThreadPoolExecutor | None = None
    try:
        if spec is None:
            course_spec = registry.spec_of()
        else:
            course_spec = spec if isinstance(spec, AssignmentSpec) else load_spec(spec)
            registry.load(course_spec)
        assignment = course_spec.id
        runtime = prepare_runtime(scratch, spec=course_spec, release_dir=release_dir)
        nonce = secrets.token_hex(16)
        # The cases are made in a thread of their own, beside the kernel's start; the
        # runner swaps the probe cells in once they are written (before the first cell).
        planning = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ag-cases")
        hidden = hidden_test_cells(nb)

        timing: dict[str, float] = {}

        def plan() -> list[_ProbedCell]:
            started = time.monotonic()
            with seeding.cases_for(case_seed):  # a context variable: set in this thread
                probed = plan_probes(hidden, runtime, nonce, assignment)
            timing["cases"] = time.monotonic() - started
            return probed

        planned = planning.submit(plan)
        env = default_env(
            scratch,
            runtime_dir=str(runtime),
            extra={"IPYTHONDIR": "/tmp/ipython", "JUPYTER_PLATFORM_DIRS": "1", **KERNEL_ENV},
        )
        zygote, kernel, zygote_seconds = None, "cold: started from scratch", 0.0
        cold = why_cold(report.mode, warm)
        if cold is not None:
            kernel += f" ({cold})"
        else:
            started = time.monotonic()
            zygote, why = shared_zygote(KERNEL_ZYGOTE_ENV, kernel_preload(course_spec))
            zygote_seconds = time.monotonic() - started
            kernel = zygote.describe() if zygote is not None else f"{kernel} ({why})"
        with Sandbox(
            scratch_dir=scratch,
            limits=limits,
            env=env,
            writable_paths=[ipc_dir],
            hide_paths=[
                p
                for p in protected_paths(course_spec)
                if not any(_within(path, p) for path in (scratch, ipc_dir))
            ],
            use_cgroups=limits.use_cgroups,
        ) as sb:
            runner = SandboxRunner(
                nb, scratch, limits, isolation, work, sb, ipc_dir, planned, skip=skip, zygote=zygote
            )
            executed = run_notebook(runner, timeout=overall_timeout(limits))
            peak = sb.peak_memory()
            used = {**sb.used, "kernel": kernel}
        # a failure to make the cases is the grader's, raised here as before; when the
        # kernel never started the probes were not swapped in, and restoring is a no-op
        probed = planned.result()
        if peak is not None:
            executed.peak_memory_bytes = peak
        started = time.monotonic()
        judge_probes(executed.nb, probed)
        if zygote_seconds >= 0.01:  # this notebook waited for the zygote to start
            executed.phases["zygote_start"] = round(zygote_seconds, 3)
        executed.phases["cases"] = round(timing["cases"], 3)
        executed.phases["verdicts"] = round(time.monotonic() - started, 3)
        executed.isolation = {"report": report.to_dict(), "used": used}
        return executed
    finally:
        if planning is not None:
            planning.shutdown(wait=True)  # nothing writes into the scratch dir afterwards
        shutil.rmtree(ipc_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            _give_back(scratch)
        if own_work:
            shutil.rmtree(work, ignore_errors=True)


def protected_paths(spec: AssignmentSpec) -> list[Path]:
    """What a sandboxed kernel must not see even where an allowlisted folder contains it:
    the engine, the assignment's source folder (hidden tests, checks, content), its
    reference, and the course directory above it (gradebook, submissions)."""
    paths = [*PROTECTED_PATHS, spec.root, *spec.staff_paths()]
    course = spec.root.parent.parent
    if (course / "nbgrader_config.py").is_file():
        paths.append(course)
    return paths


def _within(path: Path, folder: Path) -> bool:
    path, folder = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return path == folder or folder in path.parents


def _give_back(folder: Path) -> None:
    """Make the scratch dir (chowned to the sandbox user) removable by the grader again."""
    if os.geteuid() != 0:
        return
    uid, gid = os.geteuid(), os.getegid()
    for dirpath, _dirnames, filenames in os.walk(folder):
        with contextlib.suppress(OSError):
            os.lchown(dirpath, uid, gid)
        for name in filenames:
            with contextlib.suppress(OSError):
                os.lchown(os.path.join(dirpath, name), uid, gid)
